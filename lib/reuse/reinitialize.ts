/**
 * Fresh, seeded weights for a trainable view: the from-scratch baseline that a fine-tune is measured
 * against (same architecture, same data, same epochs). Matrices get Glorot-uniform values, as Keras and
 * tfjs initialize Dense and Conv kernels by default; vectors (biases) start at zero.
 */
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../package/seeded-random';
import type { TrainableView } from './trainable-view';

/** Fan-in and fan-out of a weight, by its ONNX layout. */
function fans(opType: string, dims: readonly number[]): [number, number] {
  if (opType === 'Conv' || opType === 'ConvTranspose') {
    const field = dims.slice(2).reduce((a, b) => a * b, 1);
    const [first, second] = [dims[0] * field, dims[1] * field];
    // Conv: [out, in, k...]; ConvTranspose: [in, out, k...]
    return opType === 'Conv' ? [second, first] : [first, second];
  }
  if (dims.length === 3) return [dims[2], dims[1]]; // recurrent [directions, gates * hidden, in]
  return [dims[0], dims[1]]; // Gemm/MatMul [in, out]; Gather's table
}

export function reinitialize(view: TrainableView, seed: number): void {
  const random = new SeededRandom(seed);
  tf.tidy(() => {
    for (const layer of view.weightedLayers) {
      layer.setWeights(
        layer.getWeights().map((w) => {
          if (w.rank < 2) return tf.zerosLike(w);
          const [fanIn, fanOut] = fans(layer.node.opType, w.shape);
          const limit = Math.sqrt(6 / (fanIn + fanOut));
          return tf.tensor(random.floats(w.size, -limit, limit), w.shape);
        }),
      );
    }
  });
}
