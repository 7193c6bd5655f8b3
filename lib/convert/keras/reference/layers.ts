/**
 * Keras layers that tfjs lacks, as tfjs layers written from Keras 3's own code: Subtract
 * (keras/src/layers/merging/subtract.py), SpatialDropout2D (layers/regularization/spatial_dropout.py)
 * and Normalization (layers/preprocessing/normalization.py). They are registered under Keras's class
 * names, so the twin of a Keras model (../to-tfjs.ts) is built from its config unchanged, and they
 * train: the twin is also the trainable view of the model.
 */
import * as tf from '@tensorflow/tfjs';
import { ConversionError } from '../../errors';
import { normalizationLayout, normalizationStatistic, type NormalizationLayout } from './normalization-statistics';

type Kwargs = Record<string, unknown>;
type LayerClass = new (args: tf.serialization.ConfigDict) => tf.layers.Layer;

/** tfjs-layers' Merge and Dropout base classes are not exported; their public factories' instances lead to them. */
const Merge = Object.getPrototypeOf(tf.layers.add().constructor) as LayerClass;
const Dropout = tf.layers.dropout({ rate: 0 }).constructor as LayerClass;

/** keras.layers.Subtract: exactly two inputs, x0 - x1, broadcast as Merge broadcasts. */
export class Subtract extends Merge {
  static readonly className = 'Subtract';

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    if (!Array.isArray(inputShape[0]) || inputShape.length !== 2) {
      throw new ConversionError(`layer '${this.name}' (Subtract) takes exactly 2 inputs, got ${inputShape.length}`);
    }
  }

  protected mergeFunction(inputs: tf.Tensor[]): tf.Tensor {
    return tf.sub(inputs[0], inputs[1]);
  }
}

/** keras.layers.SpatialDropout2D: drops whole channels ([batch, 1, 1, channels] noise) while training; identity otherwise. */
export class SpatialDropout2D extends Dropout {
  static readonly className = 'SpatialDropout2D';

  constructor(args: tf.serialization.ConfigDict) {
    super(args);
    const format = args.dataFormat;
    if (format !== undefined && format !== null && format !== 'channelsLast') {
      throw new ConversionError(
        `layer '${this.name}' (SpatialDropout2D): dataFormat ${JSON.stringify(format)} is not supported (channels_last only)`,
      );
    }
    this.inputSpec = [{ ndim: 4 }];
  }

  protected getNoiseShape(input: tf.Tensor): number[] {
    const [batch, , , channels] = input.shape as [number, number, number, number];
    return [batch, 1, 1, channels];
  }
}

/**
 * keras.layers.Normalization: (x - mean) / max(sqrt(variance), 1e-7), or its inverse, with mean and
 * variance either adapted (the weights mean, variance and count) or given in the config.
 */
export class Normalization extends tf.layers.Layer {
  static readonly className = 'Normalization';
  private readonly axis: unknown;
  private readonly invert: boolean;
  private readonly configMean: unknown;
  private readonly configVariance: unknown;
  private layout?: NormalizationLayout;
  private mean?: tf.LayerVariable;
  private variance?: tf.LayerVariable;
  private fixed?: { mean: tf.Tensor; denominator: tf.Tensor };

  constructor(args: tf.serialization.ConfigDict) {
    super(args);
    this.axis = args.axis === undefined ? [-1] : args.axis;
    this.invert = args.invert === true;
    this.configMean = args.mean ?? null;
    this.configVariance = args.variance ?? null;
    if ((this.configMean === null) !== (this.configVariance === null)) {
      throw new ConversionError(`layer '${this.name}' (Normalization): its config gives mean without variance, or variance without mean`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const where = `layer '${this.name}' (Normalization)`;
    this.layout = normalizationLayout(this.axis, shape, where);
    if (this.configMean === null) {
      const statShape = this.layout.statisticShape;
      this.mean = this.addWeight('mean', statShape, 'float32', tf.initializers.zeros(), undefined, false);
      this.variance = this.addWeight('variance', statShape, 'float32', tf.initializers.ones(), undefined, false);
      // Keras keeps an int 'count' for older saved models; it does not enter the computation.
      this.addWeight('count', [], 'float32', tf.initializers.zeros(), undefined, false);
    } else {
      const layout = this.layout;
      const mean = normalizationStatistic(this.configMean, layout, 'mean', where);
      const variance = normalizationStatistic(this.configVariance, layout, 'variance', where);
      this.fixed = tf.tidy(() => ({
        mean: tf.keep(tf.tensor(mean, layout.broadcastShape)),
        denominator: tf.keep(tf.maximum(tf.sqrt(tf.tensor(variance, layout.broadcastShape)), NORMALIZATION_EPSILON)),
      }));
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const { mean, denominator } = this.fixed ?? this.adapted();
      return this.invert ? tf.add(mean, tf.mul(x, denominator)) : tf.div(tf.sub(x, mean), denominator);
    });
  }

  private adapted(): { mean: tf.Tensor; denominator: tf.Tensor } {
    const shape = this.layout!.broadcastShape;
    return {
      mean: tf.reshape(this.mean!.read(), shape),
      denominator: tf.maximum(tf.sqrt(tf.reshape(this.variance!.read(), shape)), NORMALIZATION_EPSILON),
    };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: this.axis as tf.serialization.ConfigDictValue,
      invert: this.invert,
      mean: this.configMean as tf.serialization.ConfigDictValue,
      variance: this.configVariance as tf.serialization.ConfigDictValue,
    };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    if (this.fixed) tf.dispose([this.fixed.mean, this.fixed.denominator]);
    return super.dispose();
  }
}

/** keras.backend.epsilon(), the floor Normalization puts under sqrt(variance). */
export const NORMALIZATION_EPSILON = 1e-7;

for (const cls of [Subtract, SpatialDropout2D, Normalization])
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
