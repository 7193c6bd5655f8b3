/**
 * Keras 3 activations that tfjs lacks, or names differently, written from Keras's own definitions
 * (keras/src/activations/activations.py, keras/src/backend/tensorflow/nn.py). They are registered
 * with tfjs's serialization so that the twin of a Keras model computes what Keras computes; the
 * twin tests check them against outputs real Keras recorded.
 *
 * tfjs camel-cases every string it reads from a config, so Keras's 'leaky_relu' arrives as
 * 'leakyRelu', and the class names below are those camel-cased spellings.
 */
import * as tf from '@tensorflow/tfjs';

/** What tfjs layers call on an activation object (tfjs-layers' Activation base class is not exported). */
abstract class ReferenceActivation extends tf.serialization.Serializable {
  abstract apply(x: tf.Tensor): tf.Tensor;
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

/** Keras 3's hard_sigmoid: relu6(x + 3) / 6. Keras 2, and tfjs, used 0.2x + 0.5. */
export class Keras3HardSigmoid extends ReferenceActivation {
  static readonly className = 'keras3HardSigmoid';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
}

/** keras.activations.leaky_relu(x, negative_slope=0.2); the LeakyReLU layer's default slope is 0.3. */
export class LeakyReluActivation extends ReferenceActivation {
  static readonly className = 'leakyRelu';
  static readonly negativeSlope = 0.2;
  apply(x: tf.Tensor): tf.Tensor {
    return tf.leakyRelu(x, LeakyReluActivation.negativeSlope);
  }
}

/** silu(x) = x * sigmoid(x): Keras 3's name for swish, which it serializes as 'silu'. */
export class SiluActivation extends ReferenceActivation {
  static readonly className = 'silu';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
  }
}

for (const cls of [Keras3HardSigmoid, LeakyReluActivation, SiluActivation]) tf.serialization.registerClass(cls);

/**
 * Activation names whose Keras 3 meaning tfjs does not have under the same name, and the name the twin
 * uses instead (before tfjs camel-cases it).
 */
export const KERAS3_ACTIVATION_RENAMES: Readonly<Record<string, string>> = { hard_sigmoid: 'keras3_hard_sigmoid' };
