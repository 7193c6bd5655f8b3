import * as tf from '@tensorflow/tfjs';
import { ModelProto } from '../../lib/convert/onnx-schema';
import { agreement, seeded, sequential } from './conversion-harness';

const TOL = 1e-4;

function opTypes(onnx: Uint8Array): string[] {
  const model = ModelProto.toObject(ModelProto.decode(onnx)) as { graph: { node: Array<{ opType: string }> } };
  return model.graph.node.map((n) => n.opType);
}

describe('convertLayersModel: convolution and pooling (channels-last)', () => {
  const convs: Array<[string, Parameters<typeof tf.layers.conv2d>[0]]> = [
    ['valid padding', { filters: 4, kernelSize: 3, padding: 'valid' }],
    ['same padding', { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }],
    ['same padding, stride 2 on an even size', { filters: 3, kernelSize: [3, 2], strides: 2, padding: 'same' }],
    ['valid padding, stride 2, no bias', { filters: 2, kernelSize: 2, strides: [2, 1], useBias: false }],
    ['dilation 2, same padding', { filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' }],
  ];

  it.each(convs)('GIVEN Conv2D with %s WHEN converted THEN onnxruntime matches tfjs', async (_name, args) => {
    const model = sequential([tf.layers.conv2d({ inputShape: [7, 6, 3], ...seeded(11), ...args })]);

    const { maxAbsDiff, maxAbsExpected, outputShape } = await agreement(model, 2);

    expect(outputShape).toEqual([2, ...(model.outputs[0].shape.slice(1) as number[])]);
    expect(maxAbsExpected).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  const pools: Array<[string, () => tf.layers.Layer]> = [
    ['MaxPooling2D 2x2', () => tf.layers.maxPooling2d({ poolSize: 2 })],
    ['MaxPooling2D 3x3 stride 2 same', () => tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })],
    ['AveragePooling2D 2x2', () => tf.layers.averagePooling2d({ poolSize: 2 })],
    [
      'AveragePooling2D 3x3 stride 2 same (edge windows average real pixels only)',
      () => tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
    ],
    ['GlobalAveragePooling2D', () => tf.layers.globalAveragePooling2d({})],
    ['GlobalMaxPooling2D', () => tf.layers.globalMaxPooling2d({})],
  ];

  it.each(pools)('GIVEN Conv2D -> %s WHEN converted THEN onnxruntime matches tfjs', async (_name, make) => {
    const model = sequential([tf.layers.conv2d({ inputShape: [7, 6, 2], filters: 3, kernelSize: 2, ...seeded(12) }), make()]);

    const { maxAbsDiff, maxAbsExpected, outputShape } = await agreement(model, 2);

    expect(outputShape).toEqual([2, ...(model.outputs[0].shape.slice(1) as number[])]);
    expect(maxAbsExpected).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  it('GIVEN Conv1D, MaxPooling1D and GlobalAveragePooling1D WHEN converted THEN onnxruntime matches tfjs', async () => {
    const model = sequential([
      tf.layers.conv1d({ inputShape: [9, 2], filters: 3, kernelSize: 3, ...seeded(13) }),
      tf.layers.maxPooling1d({ poolSize: 2 }),
      tf.layers.conv1d({ filters: 2, kernelSize: 2, padding: 'same', activation: 'elu', ...seeded(14) }),
      tf.layers.globalAveragePooling1d({}),
    ]);

    const { maxAbsDiff, maxAbsExpected, outputShape } = await agreement(model, 3);

    expect(outputShape).toEqual([3, 2]);
    expect(maxAbsExpected).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(TOL);
  });

  it('GIVEN Conv1D with causal padding WHEN converted THEN it is rejected, naming the layer and the padding', async () => {
    const model = sequential([tf.layers.conv1d({ inputShape: [9, 2], filters: 3, kernelSize: 3, padding: 'causal', name: 'causal_conv' })]);

    await expect(agreement(model)).rejects.toThrow(/layer 'causal_conv' \(Conv1D\): padding 'causal' is not supported/);
  });

  it('GIVEN a small CNN (Conv2D -> MaxPool -> Conv2D -> Flatten -> Dense softmax) WHEN converted THEN it matches and inner transposes cancel out', async () => {
    const model = sequential([
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu', ...seeded(15) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', ...seeded(16) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, activation: 'softmax', ...seeded(17) }),
    ]);

    const { maxAbsDiff, converted } = await agreement(model, 3, [0, 1]);

    expect(maxAbsDiff).toBeLessThan(TOL);
    // Only the entry and exit transposes of the NCHW section remain; Flatten must see NHWC order.
    expect(opTypes(converted.onnx).filter((op) => op === 'Transpose')).toHaveLength(2);
    expect(opTypes(converted.onnx)).toEqual([
      'Transpose',
      'Conv',
      'Relu',
      'MaxPool',
      'Conv',
      'Relu',
      'Transpose',
      'Flatten',
      'Gemm',
      'Softmax',
    ]);
  });

  it('GIVEN a channels-first Conv2D WHEN converted THEN it is rejected with the layer named', async () => {
    const model = sequential([
      tf.layers.conv2d({ inputShape: [2, 6, 6], filters: 2, kernelSize: 3, dataFormat: 'channelsFirst', name: 'cf_conv' }),
    ]);

    await expect(agreement(model)).rejects.toThrow(/layer 'cf_conv' \(Conv2D\): dataFormat 'channelsFirst'/);
  });
});
