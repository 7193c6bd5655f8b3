/**
 * Converters for Keras's recurrent layers onto ONNX's own LSTM, GRU and RNN ops, alone or in a
 * Bidirectional wrapper. Keras runs batch-major ([batch, time, features]) and ONNX's ops at opset 13
 * time-major, so the input and the sequence output are transposed. Gate order differs for LSTM: Keras
 * stores i, f, c, o, and ONNX wants i, o, f, c; GRU's z, r, h is the same in both. Keras's single bias
 * is ONNX's input bias, with a zero recurrent bias; a reset_after=True GRU's two biases are ONNX's two,
 * with linear_before_reset=1.
 */
import { ConversionError } from './errors';
import { booleanOr, optionalString, unsupported, weight, type LayerContext, type LayerConverter } from './keras-layer-context';
import type { OnnxGraphEmitter } from './onnx-graph-emitter';
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

interface RecurrentOp {
  readonly op: 'LSTM' | 'GRU' | 'RNN';
  readonly gates: number;
  /** ONNX's gate block i comes from Keras's block order[i]. */
  readonly order: readonly number[];
  activations(ctx: LayerContext): string[];
}

const RECURRENT_OPS: Readonly<Record<string, RecurrentOp>> = {
  // Keras i, f, c, o -> ONNX i, o, f, c; activations f (gates), g (cell), h (output)
  LSTM: {
    op: 'LSTM',
    gates: 4,
    order: [0, 3, 1, 2],
    activations: (ctx) => {
      const act = rnnActivation(ctx, 'activation', 'tanh');
      return [rnnActivation(ctx, 'recurrentActivation', 'sigmoid'), act, act];
    },
  },
  // z, r, h in both; activations f (gates), g (candidate)
  GRU: {
    op: 'GRU',
    gates: 3,
    order: [0, 1, 2],
    activations: (ctx) => [rnnActivation(ctx, 'recurrentActivation', 'sigmoid'), rnnActivation(ctx, 'activation', 'tanh')],
  },
  SimpleRNN: { op: 'RNN', gates: 1, order: [0], activations: (ctx) => [rnnActivation(ctx, 'activation', 'tanh')] },
};

/** A Keras [in, gates * units] matrix as ONNX's [gates * units, in], gate blocks reordered by `order`. */
function gateMatrix(ctx: LayerContext, name: string, spec: RecurrentOp): { data: Float32Array; dims: number[] } {
  const w = weight(ctx, name);
  const [rows, cols] = w.shape;
  const units = cols / spec.gates;
  const t = transposeArray(w.data, w.shape, [1, 0]); // [gates * units, rows]
  const out = new Float32Array(t.data.length);
  spec.order.forEach((src, dst) => out.set(t.data.subarray(src * units * rows, (src + 1) * units * rows), dst * units * rows));
  return { data: out, dims: [cols, rows] };
}

/**
 * ONNX's B, [Wb, Rb]. Keras's LSTM, SimpleRNN and reset_after=False GRU have one bias, the input's; a
 * reset_after=True GRU has [2, gates * units], its input bias and its recurrent bias.
 */
function gateBias(ctx: LayerContext, spec: RecurrentOp, units: number, resetAfter: boolean): Float32Array {
  const { gates, order } = spec;
  const b = new Float32Array(2 * gates * units);
  if (!booleanOr(ctx, 'useBias', true)) return b;
  const bias = weight(ctx, 'bias');
  const parts = resetAfter ? 2 : 1;
  if (bias.data.length !== parts * gates * units)
    throw unsupported(
      ctx,
      `a bias of shape [${bias.shape.join(', ')}] for ${units} units with reset_after=${resetAfter ? 'True' : 'False'}`,
    );
  for (let p = 0; p < parts; p++) {
    const start = p * gates * units;
    order.forEach((src, dst) => b.set(bias.data.subarray(start + src * units, start + (src + 1) * units), start + dst * units));
  }
  return b;
}

function stacked(parts: ReadonlyArray<{ data: Float32Array; dims: number[] }>): { data: Float32Array; dims: number[] } {
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  parts.reduce((at, p) => (data.set(p.data, at), at + p.data.length), 0);
  return { data, dims: [parts.length, ...parts[0].dims] };
}

function axesConstant(g: OnnxGraphEmitter, base: string, axes: number[]): string {
  return g.constant(`${base}/axes`, [axes.length], BigInt64Array.from(axes.map(BigInt)));
}

/** Keras's [batch, time, features] sequence reversed in time (opset 13 Slice with step -1). */
function reverseTime(g: OnnxGraphEmitter, x: string, base: string): string {
  const int64 = (name: string, v: bigint) => g.constant(`${base}/${name}`, [1], BigInt64Array.from([v]));
  return g.node('Slice', [x, int64('starts', -1n), int64('ends', -(2n ** 63n)), axesConstant(g, base, [1]), int64('steps', -1n)], base);
}

/**
 * Runs one ONNX recurrent op over ctx.x: one direction per entry of `directions` (each a context holding
 * that direction's weights), forward, reverse or both. Returns each direction's output, batch-major:
 * [batch, time, units] for return_sequences, else [batch, units], in Keras's time order.
 */
function emitRecurrent(ctx: LayerContext, directions: readonly LayerContext[], mode: 'forward' | 'reverse' | 'bidirectional'): string[] {
  if (booleanOr(ctx, 'returnState', false)) throw unsupported(ctx, 'returnState');
  if (booleanOr(ctx, 'stateful', false)) throw unsupported(ctx, 'stateful');
  const spec = RECURRENT_OPS[ctx.className];
  if (!spec) throw unsupported(ctx, `recurrent layer class ${ctx.className}`);
  const units = ctx.config.units;
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) throw unsupported(ctx, `units ${JSON.stringify(units)}`);
  const resetAfter = spec.op === 'GRU' && booleanOr(ctx, 'resetAfter', false);
  const { g, base } = ctx;
  const W = stacked(directions.map((d) => gateMatrix(d, 'kernel', spec)));
  const R = stacked(directions.map((d) => gateMatrix(d, 'recurrent_kernel', spec)));
  const B = stacked(directions.map((d) => ({ data: gateBias(d, spec, units, resetAfter), dims: [2 * spec.gates * units] })));
  const inputs = [
    g.node('Transpose', [ctx.x], base, { perm: [1, 0, 2] }),
    g.constant(`${base}/W`, W.dims, W.data),
    g.constant(`${base}/R`, R.dims, R.data),
    g.constant(`${base}/B`, B.dims, B.data),
  ];
  const activations = directions.flatMap(() => spec.activations(ctx));
  const attributes = {
    hidden_size: units,
    ...(mode === 'forward' ? {} : { direction: mode }),
    activations: { strings: activations },
    ...(resetAfter ? { linear_before_reset: 1 } : {}),
  };
  const [y, yH] = g.multiNode(spec.op, inputs, base, ['Y', 'Y_h'], attributes);
  const sequences = booleanOr(ctx, 'returnSequences', false);
  return directions.map((_, d) => {
    const pick = (t: string, axis: number) =>
      directions.length === 1
        ? g.node('Squeeze', [t, axesConstant(g, base, [axis])], base)
        : g.node('Gather', [t, g.constant(`${base}/direction`, [], BigInt64Array.from([BigInt(d)]))], base, { axis });
    if (!sequences) return pick(yH, 0); // [batch, units]
    const sequence = g.node('Transpose', [pick(y, 1)], base, { perm: [1, 0, 2] }); // [batch, time, units]
    // ONNX lines a reverse pass up with the input's time steps; Keras's go_backwards layer answers in the order it ran.
    return mode === 'reverse' ? reverseTime(g, sequence, base) : sequence;
  });
}

const recurrent: LayerConverter = (ctx) => {
  const backwards = booleanOr(ctx, 'goBackwards', false);
  return emitRecurrent(ctx, [ctx], backwards ? 'reverse' : 'forward')[0];
};

/** ONNX ops that merge a Bidirectional's two outputs as Keras's merge_mode does. */
const MERGES: Readonly<Record<string, (g: OnnxGraphEmitter, f: string, b: string, base: string) => string>> = {
  concat: (g, f, b, base) => g.node('Concat', [f, b], base, { axis: -1 }),
  sum: (g, f, b, base) => g.node('Add', [f, b], base),
  mul: (g, f, b, base) => g.node('Mul', [f, b], base),
  ave: (g, f, b, base) => g.node('Mean', [f, b], base),
};

/**
 * keras.layers.Bidirectional over LSTM, GRU or SimpleRNN: one ONNX op with direction=bidirectional. The
 * wrapper's weights are the forward layer's, then the backward layer's (layers-model-to-onnx.ts keys
 * them 'forward/...' and 'backward/...').
 */
const bidirectional: LayerConverter = (ctx) => {
  const inner = ctx.config.layer as { className?: unknown; config?: unknown } | undefined;
  if (!inner || typeof inner.className !== 'string' || typeof inner.config !== 'object' || inner.config === null)
    throw new ConversionError(`${ctx.where}: config 'layer' must name the wrapped layer's class and config`);
  const mode = ctx.config.mergeMode ?? 'concat';
  const merge = typeof mode === 'string' ? MERGES[mode] : undefined;
  if (!merge) throw unsupported(ctx, `merge_mode ${JSON.stringify(ctx.config.mergeMode)} (supported: ${Object.keys(MERGES).join(', ')})`);
  const layer: LayerContext = {
    ...ctx,
    className: inner.className,
    config: inner.config as LayerContext['config'],
    where: `${ctx.where}, wrapping ${inner.className}`,
  };
  if (booleanOr(layer, 'goBackwards', false)) throw unsupported(layer, 'a wrapped layer with goBackwards');
  const direction = (prefix: string): LayerContext => ({
    ...layer,
    weights: new Map([...ctx.weights].filter(([k]) => k.startsWith(prefix)).map(([k, w]) => [k.slice(prefix.length), w])),
  });
  const [forward, backward] = emitRecurrent(layer, [direction('forward/'), direction('backward/')], 'bidirectional');
  return merge(ctx.g, forward, backward, ctx.base);
};

export const RECURRENT_LAYERS: Readonly<Record<string, LayerConverter>> = {
  LSTM: recurrent,
  GRU: recurrent,
  SimpleRNN: recurrent,
  Bidirectional: bidirectional,
};
