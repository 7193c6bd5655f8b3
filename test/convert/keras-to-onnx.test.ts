/**
 * Keras files converted to ONNX: onnxruntime's answers on the inputs Keras saw must match the outputs
 * real Keras recorded (scripts/make-keras-fixtures.py), within 1e-5 for FP32 (1e-4 for recurrent
 * layers), for both the .keras and the .h5 form of each model.
 */
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { ConversionError } from '../../lib/convert/errors';
import { convertLayersGraph } from '../../lib/convert/layers-model-to-onnx';
import { readKerasModelFile } from '../../lib/convert/keras/read-keras-model';
import { buildTfjsModel } from '../../lib/convert/keras/to-tfjs';
import { KERAS_FIXTURES, recordedIo } from './keras-fixtures';

const ROOT = KERAS_FIXTURES;

async function convertFixture(name: string, container: string) {
  const file = await readKerasModelFile(join(ROOT, name, container));
  const model = await buildTfjsModel(file, name);
  try {
    return convertLayersGraph(model);
  } finally {
    model.dispose();
  }
}

const CONVERTED: Array<[string, number]> = [
  ['mlp', 1e-5],
  ['cnn-batchnorm', 1e-5],
  ['residual', 1e-5],
  ['two-inputs', 1e-5],
  ['conv1d', 1e-5],
  ['embedding-text', 1e-5],
  ['layernorm-gelu', 1e-5],
  ['transpose-upsampling', 1e-5],
  ['depthwise-separable', 1e-5],
  ['lstm-sequences', 1e-4],
  ['lstm-last', 1e-4],
  ['gru-last-reset-before', 1e-4],
  ['simple-rnn', 1e-4],
];

describe.each(CONVERTED)('%s', (name, tolerance) => {
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

test('a recurrent option the converter lacks is refused by layer and option', async () => {
  const file = await readKerasModelFile(join(ROOT, 'lstm-last', 'model.keras'));
  const layers = file.graph.layers.map((l) => (l.name === 'lstm' ? { ...l, config: { ...l.config, go_backwards: true } } : l));
  const model = await buildTfjsModel({ ...file, graph: { ...file.graph, layers } }, 'lstm-last');
  try {
    expect(() => convertLayersGraph(model)).toThrow(ConversionError);
    expect(() => convertLayersGraph(model)).toThrow(/layer 'lstm' \(LSTM\): goBackwards is not supported/);
  } finally {
    model.dispose();
  }
});
