/**
 * Trains the example MNIST MLP (784 -> Dense 100 relu -> Dense 10 softmax) with pure-JS tfjs,
 * converts it to ONNX, measures it with onnxruntime on the fixed held-out split, writes that split
 * as a test fixture and packages the model into models/mnist-mlp (target cpu).
 *
 *   npm run train        (or: npx tsc -p . && node dist/scripts/train-mnist.js [--work DIR] [--epochs N] [--force])
 */
import * as tf from '@tensorflow/tfjs';
import { trainMnistExample } from './mnist-training';

trainMnistExample({
  name: 'mnist-mlp',
  target: 'cpu',
  sampleShape: [784],
  preprocess: { layout: 'flat', range: [0, 1], channels: 'gray' },
  learningRate: 0.001,
  defaultEpochs: 12,
  defaultBatch: 64,
  // The gate the package tests apply.
  minAccuracy: 0.92,
  fixture: 'test/fixtures/mnist-eval.json',
  buildModel: (seed) =>
    tf.sequential({
      name: 'mnist_mlp',
      layers: [
        tf.layers.dense({
          inputShape: [784],
          units: 100,
          activation: 'relu',
          name: 'hidden',
          kernelInitializer: tf.initializers.glorotUniform({ seed }),
          biasInitializer: 'zeros',
        }),
        tf.layers.dense({
          units: 10,
          activation: 'softmax',
          name: 'classifier',
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
          biasInitializer: 'zeros',
        }),
      ],
    }),
  description: () =>
    'MNIST digit classifier: 784 pixels (row-major 28x28, values 0..1) -> Dense 100 relu -> Dense 10 softmax. ' +
    'Trained with tfjs on the mnist npm package by scripts/train-mnist.ts.',
});
