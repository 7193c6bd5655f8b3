/**
 * Keras files converted to ONNX: onnxruntime's answers on the inputs Keras saw must match the outputs
 * real Keras recorded (scripts/make-keras-fixtures.py), within 1e-5 for FP32 (1e-4 for recurrent
 * layers), for both the .keras and the .h5 form of each model.
 */
import * as ort from 'onnxruntime-node';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConversionError } from '../../lib/convert/errors';
import { convertLayersGraph } from '../../lib/convert/layers-model-to-onnx';
import { ModelProto } from '../../lib/convert/onnx-schema';
import { readKerasModelFile } from '../../lib/convert/keras/read-keras-model';
import { buildTfjsModel } from '../../lib/convert/keras/to-tfjs';
import { KERAS_FIXTURE_MODELS, KERAS_FIXTURES, recordedIo } from './keras-fixtures';

const ROOT = KERAS_FIXTURES;

interface DecodedModel {
  opsetImport: Array<{ domain?: string; version: number | string }>;
  graph: { node: Array<{ opType: string; domain?: string }> };
}

function decodeOnnxModel(onnx: Uint8Array): DecodedModel {
  return ModelProto.toObject(ModelProto.decode(onnx), { longs: Number }) as DecodedModel;
}

async function convertFixture(name: string, container: string) {
  const file = await readKerasModelFile(join(ROOT, name, container));
  const model = await buildTfjsModel(file, name);
  try {
    return convertLayersGraph(model);
  } finally {
    model.dispose();
  }
}

describe.each(KERAS_FIXTURE_MODELS)('%s', (name, tolerance) => {
  const io = recordedIo(name);

  test.each(['model.keras', 'model.h5'])('%s: onnxruntime answers as Keras did', async (container) => {
    const converted = await convertFixture(name, container);
    expect(converted.inputs.map((t) => t.name)).toEqual(io.inputs.map((t) => t.name));
    expect(converted.outputs.map((t) => t.name)).toEqual(io.outputs.map((t) => t.name));
    const session = await ort.InferenceSession.create(converted.onnx);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of io.inputs) {
        feeds[t.name] = t.dtype.startsWith('int')
          ? new ort.Tensor('int32', Int32Array.from(t.data), t.shape)
          : new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
      }
      const out = await session.run(feeds);
      for (const expected of io.outputs) {
        const actual = out[expected.name];
        expect([...actual.dims]).toEqual(expected.shape);
        const data = actual.data as Float32Array;
        const worst = Math.max(...expected.data.map((v, j) => Math.abs(v - data[j])));
        expect(worst).toBeLessThanOrEqual(tolerance);
      }
    } finally {
      await session.release();
    }
  });
});

test('every fixture directory is in the matrix, so a new fixture cannot go untested', () => {
  const dirs = readdirSync(ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, d.name, 'model.keras')) && d.name !== 'lambda-layer')
    .map((d) => d.name)
    .sort();
  expect(KERAS_FIXTURE_MODELS.map(([name]) => name).sort()).toEqual(dirs);
});

test("every converted fixture uses only standard-domain ops at opset 13, which Triton's onnxruntime backend runs (opset <= 21)", async () => {
  const ops = new Set<string>();
  for (const [name] of KERAS_FIXTURE_MODELS) {
    const model = decodeOnnxModel((await convertFixture(name, 'model.keras')).onnx);
    for (const o of model.opsetImport) {
      expect(o.domain ?? '').toBe('');
      expect(Number(o.version)).toBeLessThanOrEqual(21);
    }
    for (const node of model.graph.node) {
      expect(node.domain ?? '').toBe('');
      ops.add(node.opType);
    }
  }
  // The recurrent and preprocessing fixtures reach the ops they are meant to.
  for (const op of ['LSTM', 'GRU', 'RNN', 'Pad', 'Slice', 'Tile', 'HardSigmoid', 'LeakyRelu', 'Div']) expect(ops).toContain(op);
});

/** The lstm-last fixture with its LSTM's config changed; a stateful RNN also needs a fixed batch size. */
async function lstmWith(change: Record<string, unknown>) {
  const file = await readKerasModelFile(join(ROOT, 'lstm-last', 'model.keras'));
  const layers = file.graph.layers.map((l) => {
    if (l.name === 'lstm') return { ...l, config: { ...l.config, ...change } };
    if (l.className === 'InputLayer' && change.stateful) return { ...l, config: { ...l.config, batch_shape: [4, 5, 3] } };
    return l;
  });
  return buildTfjsModel({ ...file, graph: { ...file.graph, layers } }, 'lstm-last');
}

test.each([
  ['return_state', /layer 'lstm' \(LSTM\) gives 3 outputs; only layers with one output are supported/],
  ['stateful', /layer 'lstm' \(LSTM\): stateful is not supported/],
])('a recurrent layer with %s is refused, naming the layer', async (kerasKey, reason) => {
  const model = await lstmWith({ [kerasKey]: true });
  try {
    expect(() => convertLayersGraph(model)).toThrow(ConversionError);
    expect(() => convertLayersGraph(model)).toThrow(reason);
  } finally {
    model.dispose();
  }
});
