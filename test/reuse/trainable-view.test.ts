/**
 * The trainable view (lib/reuse/trainable-view.ts) over every package in models/ and every Keras
 * fixture: it computes what onnxruntime computes, gives back the model's bytes unchanged when nothing
 * was trained, writes trained weights where they belong, trains, and names any op it cannot import.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConversionError } from '../../lib/convert/errors';
import { readKerasModelFile } from '../../lib/convert/keras/read-keras-model';
import { buildTfjsModel } from '../../lib/convert/keras/to-tfjs';
import { convertLayersGraph } from '../../lib/convert/layers-model-to-onnx';
import { encodeOnnxModel } from '../../lib/convert/onnx-builder';
import { buildTrainableView, type TrainableView } from '../../lib/reuse/trainable-view';
import { KERAS_FIXTURE_MODELS, KERAS_FIXTURES, recordedIo } from '../convert/keras-fixtures';

interface Feed {
  name: string;
  shape: number[];
  data: number[];
  int: boolean;
}

const MODELS = join(__dirname, '..', '..', 'models');
const PACKAGES = ['mnist-mlp', 'mnist-cnn'];

function packageCase(name: string): { onnx: Uint8Array; feeds: Feed[]; golden: Array<{ name: string; data: number[] }> } {
  const dir = join(MODELS, name);
  const request = JSON.parse(readFileSync(join(dir, 'samples', '0.request.json'), 'utf8')) as { inputs: Omit<Feed, 'int'>[] };
  const response = JSON.parse(readFileSync(join(dir, 'samples', '0.response.json'), 'utf8')) as {
    outputs: Array<{ name: string; data: number[] }>;
  };
  return {
    onnx: readFileSync(join(dir, 'model.onnx')),
    feeds: request.inputs.map((t) => ({ ...t, int: false })),
    golden: response.outputs,
  };
}

async function kerasCase(name: string): Promise<{ onnx: Uint8Array; feeds: Feed[] }> {
  const model = await buildTfjsModel(await readKerasModelFile(join(KERAS_FIXTURES, name, 'model.keras')), name);
  try {
    const io = recordedIo(name);
    return { onnx: convertLayersGraph(model).onnx, feeds: io.inputs.map((t) => ({ ...t, int: t.dtype.startsWith('int') })) };
  } finally {
    model.dispose();
  }
}

async function runOrt(onnx: Uint8Array, feeds: Feed[]): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const f of feeds)
      inputs[f.name] = new ort.Tensor(f.int ? 'int32' : 'float32', f.int ? Int32Array.from(f.data) : Float32Array.from(f.data), f.shape);
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

function runView(view: TrainableView, feeds: Feed[]): Record<string, Float32Array> {
  return tf.tidy(() => {
    const xs = feeds.map((f) => tf.tensor(f.data, f.shape, f.int ? 'int32' : 'float32'));
    const ys = view.model.predict(xs.length === 1 ? xs[0] : xs);
    const list = Array.isArray(ys) ? ys : [ys];
    return Object.fromEntries(view.onnx.outputs.map((o, i) => [o.name, Float32Array.from(list[i].dataSync())]));
  });
}

function largestDifference(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>): number {
  let worst = 0;
  for (const [name, x] of Object.entries(a)) {
    const y = b[name];
    expect(y).toBeDefined();
    expect(y.length).toBe(x.length);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

/** Moves every trainable weight by a small, position-dependent amount, as a training step would. */
function nudge(view: TrainableView): void {
  tf.tidy(() => {
    for (const layer of view.weightedLayers) {
      layer.setWeights(layer.getWeights().map((w) => tf.add(w, tf.mul(tf.sin(tf.range(0, w.size).reshape(w.shape)), 0.01))));
    }
  });
}

const CASES: Array<[string, 'package' | 'keras', number]> = [
  ...PACKAGES.map((p): [string, 'package', number] => [p, 'package', 1e-5]),
  ...KERAS_FIXTURE_MODELS.map(([name, tolerance]): [string, 'keras', number] => [name, 'keras', tolerance]),
];

describe.each(CASES)('%s (%s)', (name, kind, tolerance) => {
  test('the view answers as onnxruntime does, and an untrained view gives back the same bytes', async () => {
    const { onnx, feeds } = kind === 'package' ? packageCase(name) : await kerasCase(name);
    const view = buildTrainableView(onnx, name);
    try {
      expect(Buffer.from(view.toOnnx()).equals(Buffer.from(onnx))).toBe(true);
      expect(largestDifference(await runOrt(onnx, feeds), runView(view, feeds))).toBeLessThanOrEqual(tolerance);
      if (kind === 'package') {
        // The round trip reproduces the package's golden samples, as recorded.
        const golden = Object.fromEntries(packageCase(name).golden.map((o) => [o.name, o.data]));
        expect(largestDifference(golden, await runOrt(view.toOnnx(), feeds))).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      view.dispose();
    }
  });

  test('weights changed in the view are the weights the exported ONNX computes with', async () => {
    const { onnx, feeds } = kind === 'package' ? packageCase(name) : await kerasCase(name);
    const view = buildTrainableView(onnx, name);
    try {
      if (view.weightedLayers.length === 0) return expect(view.model.trainableWeights).toHaveLength(0);
      const before = await runOrt(onnx, feeds);
      nudge(view);
      const exported = await runOrt(view.toOnnx(), feeds);
      expect(largestDifference(exported, runView(view, feeds))).toBeLessThanOrEqual(tolerance);
      expect(largestDifference(before, exported)).toBeGreaterThan(1e-4);
    } finally {
      view.dispose();
    }
  });
});

test('the view of mnist-mlp trains: its loss falls, and a frozen layer keeps its weights', async () => {
  const { onnx, feeds } = packageCase('mnist-mlp');
  const view = buildTrainableView(onnx, 'mnist-mlp');
  try {
    const [hidden, head] = view.weightedLayers;
    hidden.trainable = false;
    const frozen = hidden.getWeights().map((w) => Array.from(w.dataSync()));
    const headBefore = head.getWeights().map((w) => Array.from(w.dataSync()));
    const x = tf.tensor(feeds[0].data, feeds[0].shape);
    const y = tf.oneHot(tf.tensor1d([7, 2, 1], 'int32'), 10);
    view.model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    const history = await view.model.fit(x, y, { epochs: 3, batchSize: 3, verbose: 0, shuffle: false });
    const losses = history.history.loss as number[];
    expect(losses[2]).toBeLessThan(losses[0]);
    expect(hidden.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(frozen);
    expect(head.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(headBefore);
    tf.dispose([x, y]);
  } finally {
    view.dispose();
  }
});

test('a graph with an op the view does not implement is refused, naming the op and the node', () => {
  const onnx = encodeOnnxModel({
    name: 'hardmax',
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 4] }],
    nodes: [{ opType: 'Hardmax', inputs: ['x'], outputs: ['y'], name: 'pick_max' }],
    initializers: [],
    opset: 13,
    producerName: 'test',
  });
  expect(() => buildTrainableView(onnx, 'hardmax')).toThrow(ConversionError);
  expect(() => buildTrainableView(onnx, 'hardmax')).toThrow(/node 'pick_max' \(Hardmax\) is an op the trainable view does not implement/);
});

test('bytes that are not ONNX are refused as such', () => {
  expect(() => buildTrainableView(Buffer.from('not a model at all'), 'junk')).toThrow(ConversionError);
});
