/**
 * The tfjs twin of each Keras fixture (lib/convert/keras/to-tfjs.ts) must answer what Keras answered:
 * it is the converter's reference and the trainable view of the model, so its numbers are checked
 * against the outputs real Keras recorded (scripts/make-keras-fixtures.py), not against ourselves.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { ConversionError } from '../../lib/convert/errors';
import { readKerasModelFile } from '../../lib/convert/keras/read-keras-model';
import { buildTfjsModel } from '../../lib/convert/keras/to-tfjs';
import { KERAS_FIXTURES, recordedIo } from './keras-fixtures';

const ROOT = KERAS_FIXTURES;

/** Fixtures tfjs can mirror, and the largest difference from Keras allowed (recurrent layers accumulate more). */
const MIRRORED: Array<[string, number]> = [
  ['mlp', 1e-5],
  ['cnn-batchnorm', 1e-5],
  ['residual', 1e-5],
  ['two-inputs', 1e-5],
  ['depthwise-separable', 1e-5],
  ['conv1d', 1e-5],
  ['embedding-text', 1e-5],
  ['transpose-upsampling', 1e-5],
  ['layernorm-gelu', 1e-5],
  ['lstm-sequences', 1e-4],
  ['lstm-last', 1e-4],
  ['gru-last-reset-before', 1e-4],
  ['simple-rnn', 1e-4],
];

/** What tfjs lacks, named by the error; these need references written from Keras's own definitions. */
const NOT_MIRRORED: Array<[string, RegExp]> = [
  ['activations', /uses Keras 3's 'hard_sigmoid', which tfjs computes differently/],
  ['gru-sequences', /GRUCell does not support reset_after/],
  ['bidirectional', /GRUCell does not support reset_after/],
  ['merges', /Unknown layer: Subtract/],
  ['rescaling-normalization', /Unknown layer: Normalization/],
  ['shape-layers', /Unknown layer: SpatialDropout2D/],
];

test.each(MIRRORED)('%s: the tfjs twin answers as Keras did (within %s)', async (name, tolerance) => {
  const io = recordedIo(name);
  for (const container of ['model.keras', 'model.h5']) {
    const model = await buildTfjsModel(await readKerasModelFile(join(ROOT, name, container)), name);
    try {
      const outputs = tf.tidy(() => {
        const xs = io.inputs.map((t) => tf.tensor(t.data, t.shape, t.dtype.startsWith('int') ? 'int32' : 'float32'));
        const ys = model.predict(xs.length === 1 ? xs[0] : xs);
        return (Array.isArray(ys) ? ys : [ys]).map((y) => ({ shape: y.shape, data: Array.from(y.dataSync()) }));
      });
      expect(outputs).toHaveLength(io.outputs.length);
      io.outputs.forEach((expected, i) => {
        expect(outputs[i].shape).toEqual(expected.shape);
        const worst = Math.max(...expected.data.map((v, j) => Math.abs(v - outputs[i].data[j])));
        expect(worst).toBeLessThanOrEqual(tolerance);
      });
    } finally {
      model.dispose();
    }
  }
});

test.each(NOT_MIRRORED)('%s: tfjs cannot mirror it, and says what it lacks', async (name, reason) => {
  const file = await readKerasModelFile(join(ROOT, name, 'model.keras'));
  const err = await buildTfjsModel(file, name).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConversionError);
  expect((err as Error).message).toMatch(reason);
});

test('weights that do not fit the config are refused, naming the layer and both shapes', async () => {
  const file = await readKerasModelFile(join(ROOT, 'mlp', 'model.keras'));
  const hidden = file.weights.get('hidden')!;
  const skewed = { ...file, weights: new Map(file.weights).set('hidden', [{ ...hidden[0], shape: [16, 20] }, hidden[1]]) };
  await expect(buildTfjsModel(skewed, 'mlp')).rejects.toThrow(
    /weight \/layers\/dense\/vars\/0 of layer 'hidden' has shape \[16, 20\]; its config needs \[20, 16\]/,
  );
  const short = { ...file, weights: new Map(file.weights).set('hidden', [hidden[0]]) };
  await expect(buildTfjsModel(short, 'mlp')).rejects.toThrow(/layer 'hidden' \(Dense\) has 1 weight\(s\) in the file; its config needs 2/);
});

test("Keras 3's hard_sigmoid is refused rather than mirrored with tfjs's (Keras 2's) definition", async () => {
  const file = await readKerasModelFile(join(ROOT, 'mlp', 'model.keras'));
  const layers = file.graph.layers.map((l) => (l.name === 'hidden' ? { ...l, config: { ...l.config, activation: 'hard_sigmoid' } } : l));
  await expect(buildTfjsModel({ ...file, graph: { ...file.graph, layers } }, 'mlp')).rejects.toThrow(
    /layer 'hidden' \(Dense\) uses Keras 3's 'hard_sigmoid', which tfjs computes differently/,
  );
});
