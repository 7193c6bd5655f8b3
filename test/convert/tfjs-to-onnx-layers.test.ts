import * as tf from '@tensorflow/tfjs';
import { agreement, seeded, sequential } from './conversion-harness';

const TOL = 1e-4;

describe('convertLayersModel: dense and activations', () => {
  const activations = [
    'linear',
    'relu',
    'relu6',
    'sigmoid',
    'hardSigmoid',
    'tanh',
    'softmax',
    'logSoftmax',
    'elu',
    'selu',
    'softplus',
    'softsign',
    'swish',
    'mish',
    'gelu',
    'gelu_new',
  ] as const;

  it.each(activations)('GIVEN Dense(activation=%s) WHEN converted THEN onnxruntime matches tfjs', async (activation) => {
    // logSoftmax and gelu_new are real tfjs activations that its ActivationIdentifier type does not list.
    const model = sequential([
      tf.layers.dense({
        inputShape: [6],
        units: 5,
        activation: activation as Parameters<typeof tf.layers.dense>[0]['activation'],
        ...seeded(1),
      }),
    ]);

    const { maxAbsDiff, maxAbsExpected, converted } = await agreement(model);

    expect(converted.layers).toEqual(['Dense']);
    expect(maxAbsExpected).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  it('GIVEN a Dense layer without bias WHEN converted THEN the output matches and no bias is added', async () => {
    const model = sequential([tf.layers.dense({ inputShape: [6], units: 4, useBias: false, ...seeded(2) })]);

    const { maxAbsDiff, maxAbsExpected } = await agreement(model);

    expect(maxAbsExpected).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  it('GIVEN a Dense layer on a rank-3 input WHEN converted THEN it applies to the last axis as in Keras', async () => {
    const model = sequential([tf.layers.dense({ inputShape: [3, 6], units: 4, activation: 'tanh', ...seeded(3) })]);

    const { maxAbsDiff, outputShape } = await agreement(model);

    expect(outputShape).toEqual([4, 3, 4]);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  const standalone: Array<[string, () => tf.layers.Layer]> = [
    ['Activation(sigmoid)', () => tf.layers.activation({ activation: 'sigmoid' })],
    ['Activation(softmax)', () => tf.layers.activation({ activation: 'softmax' })],
    ['ReLU', () => tf.layers.reLU()],
    ['ReLU(maxValue=0.5)', () => tf.layers.reLU({ maxValue: 0.5 })],
    ['Softmax', () => tf.layers.softmax()],
    ['LeakyReLU(default alpha)', () => tf.layers.leakyReLU()],
    ['LeakyReLU(alpha=0.1)', () => tf.layers.leakyReLU({ alpha: 0.1 })],
    ['ELU', () => tf.layers.elu()],
    ['ThresholdedReLU(theta=0.2)', () => tf.layers.thresholdedReLU({ theta: 0.2 })],
    ['PReLU', () => tf.layers.prelu({ alphaInitializer: tf.initializers.randomUniform({ minval: 0, maxval: 0.5, seed: 4 }) })],
    ['Dropout', () => tf.layers.dropout({ rate: 0.5 })],
  ];

  it.each(standalone)('GIVEN Dense -> %s WHEN converted THEN onnxruntime matches tfjs', async (_name, make) => {
    const model = sequential([tf.layers.dense({ inputShape: [6], units: 5, ...seeded(5) }), make()]);

    const { maxAbsDiff, maxAbsExpected } = await agreement(model);

    expect(maxAbsExpected).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });
});

describe('convertLayersModel: shape and normalization layers', () => {
  it('GIVEN an explicit InputLayer, Flatten and Dropout WHEN converted THEN all are kept in order and the output matches', async () => {
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape: [4, 3] }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dropout({ rate: 0.3 }));
    model.add(tf.layers.dense({ units: 3, activation: 'softmax', ...seeded(6) }));

    const { maxAbsDiff, outputShape, converted } = await agreement(model);

    expect(converted.layers).toEqual(['InputLayer', 'Flatten', 'Dropout', 'Dense']);
    expect(outputShape).toEqual([4, 3]);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  it('GIVEN Reshape and Permute WHEN converted THEN the element order matches tfjs', async () => {
    const model = sequential([
      tf.layers.reshape({ inputShape: [12], targetShape: [3, 4] }),
      tf.layers.permute({ dims: [2, 1] }),
      tf.layers.reshape({ targetShape: [-1] }),
    ]);

    const { maxAbsDiff, outputShape } = await agreement(model);

    expect(outputShape).toEqual([4, 12]);
    expect(maxAbsDiff).toBe(0);
  });

  it('GIVEN BatchNormalization with trained statistics WHEN converted THEN the folded affine map matches tfjs', async () => {
    const bn = tf.layers.batchNormalization({ epsilon: 0.01 });
    const model = sequential([tf.layers.dense({ inputShape: [6], units: 4, ...seeded(7) }), bn]);
    bn.setWeights([
      tf.tensor1d([0.5, 1.5, -1, 2]),
      tf.tensor1d([0.1, -0.2, 0.3, 0]),
      tf.tensor1d([0.2, -0.4, 1, 0]),
      tf.tensor1d([0.5, 2, 0.1, 1.5]),
    ]);

    const { maxAbsDiff, maxAbsExpected } = await agreement(model);

    expect(maxAbsExpected).toBeGreaterThan(0.5);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  it('GIVEN a model of only no-op layers WHEN converted THEN the ONNX model still returns its input', async () => {
    const model = sequential([tf.layers.dropout({ inputShape: [5], rate: 0.2 })]);

    const { maxAbsDiff, outputShape } = await agreement(model);

    expect(outputShape).toEqual([4, 5]);
    expect(maxAbsDiff).toBe(0);
  });
});
