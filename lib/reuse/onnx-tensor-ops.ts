/**
 * ONNX's element-wise, matrix and shape ops as tfjs computations, following the operator specs
 * (onnx/docs/Operators.md) at the opsets modelship writes (13-17). Every op here has a gradient in
 * tfjs, so a graph of them trains.
 */
import * as tf from '@tensorflow/tfjs';
import { ConversionError } from '../convert/errors';
import { positiveAxis, type OpContext, type OpImplementation } from './onnx-op-context';

const one =
  (f: (x: tf.Tensor, ctx: OpContext) => tf.Tensor): OpImplementation =>
  (ctx) => [f(ctx.input(0), ctx)];

const binary = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): OpImplementation => one((a, ctx) => f(a, ctx.input(1)));

const variadic =
  (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, finish?: (t: tf.Tensor, n: number) => tf.Tensor): OpImplementation =>
  (ctx) => {
    const xs = ctx.inputs.filter((t): t is tf.Tensor => t !== undefined);
    const folded = xs.slice(1).reduce(f, xs[0]);
    return [finish ? finish(folded, xs.length) : folded];
  };

/** Softmax and LogSoftmax over one axis (opset 13); tfjs's act on the last, so others move there and back. */
const lastAxis =
  (f: (x: tf.Tensor) => tf.Tensor): OpImplementation =>
  (ctx) => {
    const x = ctx.input(0);
    const axis = positiveAxis(ctx.int('axis', -1), x.rank);
    if (axis === x.rank - 1) return [f(x)];
    const perm = [...Array(x.rank).keys()];
    [perm[axis], perm[x.rank - 1]] = [perm[x.rank - 1], perm[axis]];
    return [tf.transpose(f(tf.transpose(x, perm)), perm)];
  };

function gemm(ctx: OpContext): tf.Tensor[] {
  const a = ctx.input(0) as tf.Tensor2D;
  const b = ctx.input(1) as tf.Tensor2D;
  let y: tf.Tensor = tf.matMul(a, b, ctx.int('transA', 0) === 1, ctx.int('transB', 0) === 1);
  const alpha = ctx.float('alpha', 1);
  if (alpha !== 1) y = tf.mul(y, alpha);
  if (ctx.has(2)) {
    const beta = ctx.float('beta', 1);
    y = tf.add(y, beta === 1 ? ctx.input(2) : tf.mul(ctx.input(2), beta));
  }
  return [y];
}

/** numpy matmul of a rank-n tensor by a matrix: the leading axes are folded into rows. */
function matMul(ctx: OpContext): tf.Tensor[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  if (a.rank === 2 && b.rank === 2) return [tf.matMul(a, b)];
  if (b.rank !== 2) throw ctx.fail(`MatMul of a rank-${a.rank} by a rank-${b.rank} tensor`);
  const rows = tf.reshape<tf.Rank.R2>(a, [-1, a.shape[a.rank - 1]]);
  return [tf.reshape(tf.matMul(rows, b as tf.Tensor2D), [...a.shape.slice(0, -1), b.shape[1]!])];
}

function reshape(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  if (ctx.int('allowzero', 0) !== 0) throw ctx.fail('allowzero=1');
  const shape = ctx.ints(1).map((d, i) => (d === 0 ? x.shape[i] : d));
  return [tf.reshape(x, shape)];
}

function flatten(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  const axis = positiveAxis(ctx.int('axis', 1), x.rank);
  const rows = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  return [tf.reshape(x, [rows, -1])];
}

function axesOf(ctx: OpContext, rank: number): number[] {
  // Squeeze and Unsqueeze take their axes as an input from opset 13 on, as an attribute before.
  const axes = ctx.has(1) ? ctx.ints(1) : ctx.intList('axes', []);
  return axes.map((a) => positiveAxis(a, rank));
}

function squeeze(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  return [tf.squeeze(x, axesOf(ctx, x.rank))];
}

function unsqueeze(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  const axes = axesOf(ctx, x.rank + (ctx.has(1) ? ctx.input(1).size : ctx.intList('axes', []).length)).sort((p, q) => p - q);
  return [axes.reduce((t, a) => tf.expandDims(t, a), x)];
}

function reduce(kind: 'mean' | 'max'): OpImplementation {
  return (ctx) => {
    const x = ctx.input(0);
    // ReduceMean/ReduceMax keep axes as an attribute until opset 18.
    const axes = (ctx.has(1) ? ctx.ints(1) : ctx.intList('axes', [...Array(x.rank).keys()])).map((a) => positiveAxis(a, x.rank));
    const keep = ctx.int('keepdims', 1) === 1;
    return [kind === 'mean' ? tf.mean(x, axes, keep) : tf.max(x, axes, keep)];
  };
}

function gather(ctx: OpContext): tf.Tensor[] {
  const data = ctx.input(0);
  const axis = positiveAxis(ctx.int('axis', 0), data.rank);
  const indices = ctx.input(1);
  return [tf.gather(data, indices.dtype === 'int32' ? indices : tf.cast(indices, 'int32'), axis)];
}

function cast(ctx: OpContext): tf.Tensor[] {
  const to = ctx.int('to', 1);
  // tfjs has no int64: ONNX's INT64 (7) and INT32 (6) are both int32 here, which every index op takes.
  if (to === 1) return [tf.cast(ctx.input(0), 'float32')];
  if (to === 6 || to === 7) return [tf.cast(ctx.input(0), 'int32')];
  throw ctx.fail(`Cast to ONNX type ${to}`);
}

function clip(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  const lo = ctx.has(1) ? ctx.input(1).dataSync()[0] : -Infinity;
  const hi = ctx.has(2) ? ctx.input(2).dataSync()[0] : Infinity;
  return [tf.clipByValue(x, lo, hi)];
}

function pad(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  if (ctx.string('mode', 'constant') !== 'constant') throw ctx.fail(`mode '${ctx.string('mode', 'constant')}'`);
  const pads = ctx.ints(1);
  const value = ctx.has(2) ? ctx.input(2).dataSync()[0] : 0;
  return [
    tf.pad(
      x,
      x.shape.map((_, i) => [pads[i], pads[i + x.rank]] as [number, number]),
      value,
    ),
  ];
}

/** ONNX Slice (starts, ends, axes, steps as inputs), its clamping rules included, as one strided slice. */
function slice(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  const starts = ctx.ints(1);
  const ends = ctx.ints(2);
  const axes = ctx.has(3) ? ctx.ints(3).map((a) => positiveAxis(a, x.rank)) : starts.map((_, i) => i);
  const steps = ctx.has(4) ? ctx.ints(4) : starts.map(() => 1);
  const begin = x.shape.map(() => 0);
  const end = [...x.shape];
  const strides = x.shape.map(() => 1);
  let endMask = 0;
  axes.forEach((axis, i) => {
    const size = x.shape[axis];
    const step = steps[i];
    if (step === 0) throw ctx.fail('a step of 0');
    const norm = (v: number) => (v < 0 ? v + size : v);
    if (step > 0) {
      begin[axis] = Math.min(Math.max(norm(starts[i]), 0), size);
      end[axis] = Math.min(Math.max(norm(ends[i]), 0), size);
    } else {
      begin[axis] = Math.min(Math.max(norm(starts[i]), -1), size - 1);
      const e = Math.min(Math.max(norm(ends[i]), -1), size - 1);
      // -1 here means "past the first element", which a strided slice spells with its end mask.
      if (e < 0) endMask |= 1 << axis;
      end[axis] = e;
    }
    strides[axis] = step;
  });
  return [tf.stridedSlice(x, begin, end, strides, 0, endMask)];
}

function concat(ctx: OpContext): tf.Tensor[] {
  const xs = ctx.inputs.filter((t): t is tf.Tensor => t !== undefined);
  return [tf.concat(xs, positiveAxis(ctx.int('axis', 0), xs[0].rank))];
}

function prelu(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  return [tf.where(tf.less(x, 0), tf.mul(x, ctx.input(1)), x)];
}

/** relu(x) + alpha * (exp(min(x, 0)) - 1): exp never sees a large x, so neither the value nor its gradient overflows. */
function elu(x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), alpha));
}

export const TENSOR_OPS: Readonly<Record<string, OpImplementation>> = {
  Identity: one((x) => tf.clone(x)),
  Add: binary(tf.add),
  Sub: binary(tf.sub),
  Mul: binary(tf.mul),
  Div: binary(tf.div),
  Pow: binary(tf.pow),
  Sum: variadic(tf.add),
  Mean: variadic(tf.add, (t, n) => tf.div(t, n)),
  Max: variadic(tf.maximum),
  Min: variadic(tf.minimum),
  Relu: one(tf.relu),
  Sigmoid: one(tf.sigmoid),
  Tanh: one(tf.tanh),
  Exp: one(tf.exp),
  Sqrt: one(tf.sqrt),
  Erf: one(tf.erf),
  Softplus: one(tf.softplus),
  Softsign: one((x) => tf.div(x, tf.add(tf.abs(x), 1))),
  Elu: one((x, ctx) => elu(x, ctx.float('alpha', 1))),
  Selu: one((x, ctx) => tf.mul(elu(x, ctx.float('alpha', 1.6732632423543772)), ctx.float('gamma', 1.0507009873554805))),
  LeakyRelu: one((x, ctx) => tf.leakyRelu(x, ctx.float('alpha', 0.01))),
  HardSigmoid: one((x, ctx) => tf.clipByValue(tf.add(tf.mul(x, ctx.float('alpha', 0.2)), ctx.float('beta', 0.5)), 0, 1)),
  ThresholdedRelu: one((x, ctx) => tf.where(tf.greater(x, ctx.float('alpha', 1)), x, tf.zerosLike(x))),
  PRelu: prelu,
  Clip: clip,
  Softmax: lastAxis(tf.softmax),
  LogSoftmax: lastAxis(tf.logSoftmax),
  Gemm: gemm,
  MatMul: matMul,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: one((x, ctx) => tf.transpose(x, ctx.intList('perm', [...Array(x.rank).keys()].reverse()))),
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  ReduceMean: reduce('mean'),
  ReduceMax: reduce('max'),
  Gather: gather,
  Cast: cast,
  Pad: pad,
  Slice: slice,
  Tile: one((x, ctx) => tf.tile(x, ctx.ints(1))),
};

/** Fails naming the op and node when an op is outside what the trainable view computes. */
export function unknownOp(ctx: OpContext, supported: readonly string[]): ConversionError {
  return new ConversionError(
    `${ctx.where} is an op the trainable view does not implement; it implements ${[...supported].sort().join(', ')}`,
  );
}
