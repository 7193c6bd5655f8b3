/**
 * The tfjs twin of each Keras fixture (lib/convert/keras/to-tfjs.ts) must answer what Keras answered:
 * it is the converter's reference and the trainable view of the model, so its numbers are checked
 * against the outputs real Keras recorded (scripts/make-keras-fixtures.py), not against ourselves.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { readKerasModelFile } from '../../lib/convert/keras/read-keras-model';
import { buildTfjsModel } from '../../lib/convert/keras/to-tfjs';
import { KERAS_FIXTURE_MODELS, KERAS_FIXTURES, recordedIo } from './keras-fixtures';

const ROOT = KERAS_FIXTURES;

test.each(KERAS_FIXTURE_MODELS)('%s: the tfjs twin answers as Keras did (within %s)', async (name, tolerance) => {
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

/** The mlp fixture with its hidden layer's activation replaced, read from a file of the given serialization. */
async function mlpWithActivation(container: 'model.keras' | 'keras2.h5', activation: string) {
  const file = await readKerasModelFile(join(ROOT, 'mlp', container));
  const layers = file.graph.layers.map((l) => (l.name === 'hidden' ? { ...l, config: { ...l.config, activation } } : l));
  return buildTfjsModel({ ...file, graph: { ...file.graph, layers } }, 'mlp');
}

/** What the hidden layer answers for pre-activations -4, -1.5, 0, 1, 2.9, 4: its kernel zeroed, its bias set to them. */
function hiddenActivationValues(model: tf.LayersModel): number[] {
  const hidden = model.getLayer('hidden');
  const [kernel, bias] = hidden.getWeights();
  const pre = [-4, -1.5, 0, 1, 2.9, 4];
  hidden.setWeights([tf.zerosLike(kernel), tf.tensor1d([...pre, ...new Array<number>(bias.shape[0] - pre.length).fill(0)])]);
  const probe = tf.model({ inputs: model.inputs, outputs: hidden.output });
  const y = tf.tidy(() => Array.from((probe.predict(tf.zeros([1, 20])) as tf.Tensor).dataSync()));
  return y.slice(0, pre.length);
}

test("a Keras 3 file's hard_sigmoid is Keras 3's relu6(x + 3) / 6, a Keras 2 file's is Keras 2's 0.2x + 0.5", async () => {
  const keras3 = await mlpWithActivation('model.keras', 'hard_sigmoid');
  const keras2 = await mlpWithActivation('keras2.h5', 'hard_sigmoid');
  try {
    const close = (values: number[], expected: number[]) => values.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    close(hiddenActivationValues(keras3), [0, 0.25, 0.5, 4 / 6, 5.9 / 6, 1]);
    close(hiddenActivationValues(keras2), [0, 0.2, 0.5, 0.7, 1, 1]);
  } finally {
    keras3.dispose();
    keras2.dispose();
  }
});

test("Keras 3's leaky_relu activation has its 0.2 slope (the LeakyReLU layer's default is 0.3)", async () => {
  const model = await mlpWithActivation('model.keras', 'leaky_relu');
  try {
    const values = hiddenActivationValues(model);
    [-0.8, -0.3, 0, 1, 2.9, 4].forEach((v, i) => expect(values[i]).toBeCloseTo(v, 6));
  } finally {
    model.dispose();
  }
});

test('a Bidirectional whose backward layer is not its forward layer run backwards is refused by name', async () => {
  const file = await readKerasModelFile(join(ROOT, 'bidirectional', 'model.keras'));
  const layers = file.graph.layers.map((l) => {
    if (l.name !== 'bilstm') return l;
    const backward = l.config.backward_layer as { config: Record<string, unknown> };
    return { ...l, config: { ...l.config, backward_layer: { ...backward, config: { ...backward.config, units: 5 } } } };
  });
  await expect(buildTfjsModel({ ...file, graph: { ...file.graph, layers } }, 'bidirectional')).rejects.toThrow(
    /layer 'bilstm' \(Bidirectional\): a backward_layer other than the forward layer run backwards is not supported/,
  );
});

test.each(['gru-sequences', 'bidirectional', 'merges', 'shape-layers', 'rescaling-normalization'])(
  '%s: the twin built on the reference layers trains (its loss falls under fitting), as the trainable view must',
  async (name) => {
    const io = recordedIo(name);
    const model = await buildTfjsModel(await readKerasModelFile(join(ROOT, name, 'model.keras')), name);
    try {
      const xs = io.inputs.map((t) => tf.tensor(t.data, t.shape, 'float32'));
      const ys = io.outputs.map((t) => tf.zeros(t.shape));
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const history = await model.fit(xs.length === 1 ? xs[0] : xs, ys.length === 1 ? ys[0] : ys, { epochs: 5, batchSize: 4, verbose: 0 });
      const losses = history.history.loss as number[];
      expect(losses[4]).toBeLessThan(losses[0]);
      tf.dispose([...xs, ...ys]);
    } finally {
      model.dispose();
    }
  },
);
