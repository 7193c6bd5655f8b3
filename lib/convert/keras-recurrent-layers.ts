/**
 * Converters for Keras's recurrent layers onto ONNX's own LSTM, GRU and RNN ops. Keras runs batch-major
 * ([batch, time, features]) and ONNX's ops at opset 13 time-major, so the input and the sequence output
 * are transposed. Gate order differs for LSTM: Keras stores i, f, c, o, and ONNX wants i, o, f, c; GRU's
 * z, r, h is the same in both. Keras's single bias is ONNX's input bias, with a zero recurrent bias.
 */
import { booleanOr, optionalString, unsupported, weight, type LayerContext, type LayerConverter } from './keras-layer-context';
import { transposeArray } from './transpose-array';

/** Keras activation names as ONNX's RNN ops spell them; only those ONNX defines the same way. */
const RNN_ACTIVATIONS: Readonly<Record<string, string>> = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu' };

function rnnActivation(ctx: LayerContext, key: string, fallback: string): string {
  const name = optionalString(ctx, key) ?? fallback;
  const onnx = RNN_ACTIVATIONS[name];
  if (onnx === undefined)
    throw unsupported(ctx, `${key} '${name}' in a recurrent layer (supported: ${Object.keys(RNN_ACTIVATIONS).join(', ')})`);
  return onnx;
}

function refuseStatefulOptions(ctx: LayerContext): void {
  if (booleanOr(ctx, 'returnState', false)) throw unsupported(ctx, 'returnState');
  if (booleanOr(ctx, 'stateful', false)) throw unsupported(ctx, 'stateful');
  if (booleanOr(ctx, 'goBackwards', false)) throw unsupported(ctx, 'goBackwards');
}

/** A Keras [in, gates * units] matrix as ONNX's [1, gates * units, in], gate blocks reordered by `order`. */
function gateMatrix(ctx: LayerContext, name: string, gates: number, order: readonly number[]): { data: Float32Array; dims: number[] } {
  const w = weight(ctx, name);
  const [rows, cols] = w.shape;
  const units = cols / gates;
  const t = transposeArray(w.data, w.shape, [1, 0]); // [gates * units, rows]
  const out = new Float32Array(t.data.length);
  order.forEach((src, dst) => out.set(t.data.subarray(src * units * rows, (src + 1) * units * rows), dst * units * rows));
  return { data: out, dims: [1, cols, rows] };
}

function gateBias(ctx: LayerContext, gates: number, units: number, order: readonly number[]): Float32Array {
  const b = new Float32Array(2 * gates * units); // [Wb, Rb]; Keras has no separate recurrent bias here
  if (!booleanOr(ctx, 'useBias', true)) return b;
  const bias = weight(ctx, 'bias');
  if (bias.data.length !== gates * units)
    throw unsupported(ctx, `a bias of shape [${bias.shape.join(', ')}] (reset_after=True GRU biases are not converted yet)`);
  order.forEach((src, dst) => b.set(bias.data.subarray(src * units, (src + 1) * units), dst * units));
  return b;
}

const recurrent =
  (op: 'LSTM' | 'GRU' | 'RNN', gates: number, order: readonly number[], activations: (ctx: LayerContext) => string[]): LayerConverter =>
  (ctx) => {
    refuseStatefulOptions(ctx);
    if (op === 'GRU' && booleanOr(ctx, 'resetAfter', false)) throw unsupported(ctx, 'reset_after=True');
    const units = ctx.config.units;
    if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) throw unsupported(ctx, `units ${JSON.stringify(units)}`);
    const { g, base } = ctx;
    const W = gateMatrix(ctx, 'kernel', gates, order);
    const R = gateMatrix(ctx, 'recurrent_kernel', gates, order);
    const B = gateBias(ctx, gates, units, order);
    const inputs = [
      g.node('Transpose', [ctx.x], base, { perm: [1, 0, 2] }),
      g.constant(`${base}/W`, W.dims, W.data),
      g.constant(`${base}/R`, R.dims, R.data),
      g.constant(`${base}/B`, [1, B.length], B),
    ];
    const [y, yH] = g.multiNode(op, inputs, base, ['Y', 'Y_h'], { hidden_size: units, activations: { strings: activations(ctx) } });
    const axes = (a: number) => g.constant(`${base}/axes`, [1], BigInt64Array.from([BigInt(a)]));
    if (!booleanOr(ctx, 'returnSequences', false)) return g.node('Squeeze', [yH, axes(0)], base); // [batch, units]
    const sequence = g.node('Squeeze', [y, axes(1)], base); // [time, batch, units]
    return g.node('Transpose', [sequence], base, { perm: [1, 0, 2] });
  };

export const RECURRENT_LAYERS: Readonly<Record<string, LayerConverter>> = {
  // Keras i, f, c, o -> ONNX i, o, f, c; activations f (gates), g (cell), h (output)
  LSTM: recurrent('LSTM', 4, [0, 3, 1, 2], (ctx) => {
    const act = rnnActivation(ctx, 'activation', 'tanh');
    return [rnnActivation(ctx, 'recurrentActivation', 'sigmoid'), act, act];
  }),
  // z, r, h in both; activations f (gates), g (candidate)
  GRU: recurrent('GRU', 3, [0, 1, 2], (ctx) => [
    rnnActivation(ctx, 'recurrentActivation', 'sigmoid'),
    rnnActivation(ctx, 'activation', 'tanh'),
  ]),
  SimpleRNN: recurrent('RNN', 1, [0], (ctx) => [rnnActivation(ctx, 'activation', 'tanh')]),
};
