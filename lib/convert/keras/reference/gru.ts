/**
 * Keras's GRU with reset_after=True, its default since Keras 2.3, which tfjs's GRUCell refuses. Written
 * from keras/src/layers/rnn/gru.py (GRUCell.call): the bias is [2, 3 * units], an input bias and a
 * recurrent bias, and the reset gate multiplies the recurrent candidate after its matrix product:
 *   z = σ(x Wz + bz + h Rz + b'z),  r = σ(x Wr + br + h Rr + b'r)
 *   h~ = tanh(x Wh + bh + r ⊙ (h Rh + b'h)),  h' = z ⊙ h + (1 - z) ⊙ h~
 * This is ONNX's GRU with linear_before_reset=1.
 *
 * The class is registered as 'GRU', in place of tfjs's own, so that a Keras config (and a Bidirectional
 * wrapping one) builds unchanged; with reset_after=False it is tfjs's GRU exactly.
 */
import * as tf from '@tensorflow/tfjs';

type Kwargs = Record<string, unknown>;
type LayerClass = new (args: tf.serialization.ConfigDict) => tf.layers.Layer;

/** tfjs's GRUCell and GRU classes are not exported; instances from the public factories lead to them. */
const TfjsGRUCell = tf.layers.gruCell({ units: 1 }).constructor as LayerClass;
const TfjsGRU = tf.layers.gru({ units: 1 }).constructor as LayerClass;

/** The GRUCell fields this subclass reads (tfjs-layers' recurrent.js). */
interface GRUCellState {
  units: number;
  useBias: boolean;
  kernel: tf.LayerVariable;
  recurrentKernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { apply(x: tf.Tensor): tf.Tensor };
  recurrentActivation: { apply(x: tf.Tensor): tf.Tensor };
  dropout: number;
  recurrentDropout: number;
  dropoutMask: tf.Tensor | null;
  recurrentDropoutMask: tf.Tensor | null;
  biasInitializer: ReturnType<typeof tf.initializers.zeros>;
  biasRegularizer?: ReturnType<typeof tf.regularizers.l2>;
  biasConstraint?: ReturnType<typeof tf.constraints.maxNorm>;
}

/** One dropout mask per sequence, as Keras draws it (the same units dropped at every step). */
function dropoutMask(like: tf.Tensor, rate: number): tf.Tensor {
  return tf.keep(tf.dropout(tf.onesLike(like), rate));
}

export class GRUResetAfterCell extends TfjsGRUCell {
  readonly resetAfter: boolean;

  constructor(args: tf.serialization.ConfigDict) {
    super({ ...args, resetAfter: false });
    this.resetAfter = args.resetAfter === true;
  }

  private get state(): GRUCellState {
    return this as unknown as GRUCellState;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = this.state;
    if (!this.resetAfter || !s.useBias) return super.build(inputShape);
    s.useBias = false;
    try {
      super.build(inputShape); // kernel and recurrent_kernel, in Keras's order
    } finally {
      s.useBias = true;
    }
    s.bias = this.addWeight('bias', [2, 3 * s.units], undefined, s.biasInitializer, s.biasRegularizer, true, s.biasConstraint);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    if (!this.resetAfter) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const s = this.state;
      const [input, previous] = inputs as tf.Tensor[];
      let x = input;
      let h = previous;
      if (kwargs.training === true && s.dropout > 0 && s.dropout < 1) {
        s.dropoutMask ??= dropoutMask(x, s.dropout);
        x = tf.mul(x, s.dropoutMask);
      }
      if (kwargs.training === true && s.recurrentDropout > 0 && s.recurrentDropout < 1) {
        s.recurrentDropoutMask ??= dropoutMask(h, s.recurrentDropout);
        h = tf.mul(h, s.recurrentDropoutMask);
      }
      let fromInput = tf.matMul(x, s.kernel.read());
      let fromState = tf.matMul(h, s.recurrentKernel.read());
      if (s.bias) {
        const [inputBias, recurrentBias] = tf.unstack(s.bias.read());
        fromInput = tf.add(fromInput, inputBias);
        fromState = tf.add(fromState, recurrentBias);
      }
      const [xZ, xR, xH] = tf.split(fromInput, 3, -1);
      const [hZ, hR, hH] = tf.split(fromState, 3, -1);
      const z = s.recurrentActivation.apply(tf.add(xZ, hZ));
      const r = s.recurrentActivation.apply(tf.add(xR, hR));
      const candidate = s.activation.apply(tf.add(xH, tf.mul(r, hH)));
      const next = tf.add(tf.mul(z, previous), tf.mul(tf.sub(1, z), candidate));
      return [next, next];
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), resetAfter: this.resetAfter };
  }
}

export class GRU extends TfjsGRU {
  static readonly className = 'GRU';

  constructor(args: tf.serialization.ConfigDict) {
    super({ ...args, resetAfter: false });
    if (args.resetAfter === true) (this as unknown as { cell: tf.layers.Layer }).cell = new GRUResetAfterCell(args);
  }

  get resetAfter(): boolean {
    const cell = (this as unknown as { cell: tf.layers.Layer }).cell;
    return cell instanceof GRUResetAfterCell && cell.resetAfter;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), resetAfter: this.resetAfter };
  }
}

tf.serialization.registerClass(GRU as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
