/**
 * ONNX's channels-first convolution, pooling and resize ops on tfjs, which runs channels-last on the
 * CPU: each op moves NCHW to NHWC and back around tfjs's own kernel (the transposes the converter
 * writes around a Conv then cancel in value, not in work). 1-D ops run as 2-D ones of height 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { OpContext, OpImplementation } from './onnx-op-context';

type Padding = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/** An N-C-spatial tensor with one or two spatial axes, as NHWC (height 1 for one axis). */
function toNhwc(x: tf.Tensor, spatial: number): tf.Tensor4D {
  const x4 = spatial === 1 ? tf.expandDims(x, 2) : x;
  return tf.transpose(x4, TO_NHWC) as tf.Tensor4D;
}

function fromNhwc(y: tf.Tensor4D, spatial: number): tf.Tensor {
  const nchw = tf.transpose(y, TO_NCHW);
  return spatial === 1 ? tf.squeeze(nchw, [2]) : nchw;
}

/** Per-axis attributes of a 1-D op lifted to 2-D: height 1 is prepended. */
function lift(values: number[], spatial: number, filler: number): [number, number] {
  return (spatial === 1 ? [filler, values[0]] : values) as [number, number];
}

function padding(ctx: OpContext, spatial: number): Padding {
  const auto = ctx.string('auto_pad', 'NOTSET');
  if (auto === 'SAME_UPPER') return 'same';
  if (auto === 'VALID') return 'valid';
  if (auto !== 'NOTSET') throw ctx.fail(`auto_pad '${auto}'`);
  const pads = ctx.intList('pads', new Array<number>(2 * spatial).fill(0));
  if (pads.every((p) => p === 0)) return 'valid';
  const [top, left] = lift(pads.slice(0, spatial), spatial, 0);
  const [bottom, right] = lift(pads.slice(spatial), spatial, 0);
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

function spatialRank(ctx: OpContext): number {
  const spatial = ctx.input(0).rank - 2;
  if (spatial !== 1 && spatial !== 2) throw ctx.fail(`${ctx.node.opType} over ${spatial} spatial axes`);
  return spatial;
}

function conv(ctx: OpContext): tf.Tensor[] {
  const spatial = spatialRank(ctx);
  const x = toNhwc(ctx.input(0), spatial);
  const w = ctx.input(1); // [out, in / group, k...]
  const w4 = spatial === 1 ? tf.expandDims(w, 2) : w;
  const group = ctx.int('group', 1);
  const strides = lift(ctx.intList('strides', new Array<number>(spatial).fill(1)), spatial, 1);
  const dilations = lift(ctx.intList('dilations', new Array<number>(spatial).fill(1)), spatial, 1);
  const pad = padding(ctx, spatial);
  const inChannels = x.shape[3];
  let y: tf.Tensor4D;
  if (group === 1) {
    y = tf.conv2d(x, tf.transpose(w4, [2, 3, 1, 0]) as tf.Tensor4D, strides, pad, 'NHWC', dilations);
  } else if (group === inChannels && w4.shape[1] === 1) {
    // Depthwise: ONNX output channel c * multiplier + m is tfjs's filter [.., c, m].
    const multiplier = w4.shape[0] / inChannels;
    const filter = tf.reshape<tf.Rank.R4>(tf.transpose(w4, [2, 3, 1, 0]), [w4.shape[2]!, w4.shape[3]!, inChannels, multiplier]);
    y = tf.depthwiseConv2d(x, filter, strides, pad, 'NHWC', dilations);
  } else {
    throw ctx.fail(`group=${group} on ${inChannels} channels (only 1, or one group per channel)`);
  }
  if (ctx.has(2)) y = tf.add(y, ctx.input(2));
  return [fromNhwc(y, spatial)];
}

function convTranspose(ctx: OpContext): tf.Tensor[] {
  if (spatialRank(ctx) !== 2) throw ctx.fail('a 1-D ConvTranspose');
  if (ctx.int('group', 1) !== 1) throw ctx.fail(`group=${ctx.int('group', 1)}`);
  if (ctx.intList('dilations', [1, 1]).some((d) => d !== 1)) throw ctx.fail('dilations other than 1');
  if (ctx.intList('output_padding', [0, 0]).some((d) => d !== 0)) throw ctx.fail('output_padding');
  const x = toNhwc(ctx.input(0), 2);
  const w = ctx.input(1) as tf.Tensor4D; // [in, out, kh, kw]
  const [, out, kh, kw] = w.shape;
  const [sh, sw] = ctx.intList('strides', [1, 1]) as [number, number];
  const [, h, wd] = x.shape;
  const full: [number, number, number, number] = [x.shape[0], (h - 1) * sh + kh, (wd - 1) * sw + kw, out];
  let y = tf.conv2dTranspose(x, tf.transpose<tf.Tensor4D>(w, [2, 3, 1, 0]), full, [sh, sw], 'valid');
  // ONNX's pads crop the full output, begins first.
  const [pt, pl, pb, pr] = ctx.intList('pads', [0, 0, 0, 0]) as [number, number, number, number];
  if (pt + pl + pb + pr > 0) y = tf.slice(y, [0, pt, pl, 0], [-1, full[1] - pt - pb, full[2] - pl - pr, -1]);
  if (ctx.has(2)) y = tf.add(y, ctx.input(2));
  return [fromNhwc(y, 2)];
}

const pool =
  (kind: 'max' | 'avg'): OpImplementation =>
  (ctx) => {
    const spatial = spatialRank(ctx);
    const kernel = ctx.intList('kernel_shape');
    const strides = lift(ctx.intList('strides', kernel), spatial, 1);
    const pad = padding(ctx, spatial);
    if (kind === 'avg' && pad !== 'valid' && ctx.int('count_include_pad', 0) !== 0) throw ctx.fail('count_include_pad=1');
    if (ctx.int('ceil_mode', 0) !== 0) throw ctx.fail('ceil_mode=1');
    if (Array.isArray(pad)) throw ctx.fail(`explicit pads [${ctx.intList('pads').join(', ')}] on a pool`);
    const x = toNhwc(ctx.input(0), spatial);
    const size = lift(kernel, spatial, 1);
    const y = kind === 'max' ? tf.maxPool(x, size, strides, pad) : tf.avgPool(x, size, strides, pad);
    return [fromNhwc(y, spatial)];
  };

/** Nearest-neighbour Resize by whole scales on the spatial axes of an NHWC tensor, as UpSampling2D writes it. */
function resize(ctx: OpContext): tf.Tensor[] {
  const x = ctx.input(0);
  const mode = ctx.string('mode', 'nearest');
  const transform = ctx.string('coordinate_transformation_mode', 'half_pixel');
  if (mode !== 'nearest' || transform !== 'asymmetric' || ctx.string('nearest_mode', 'round_prefer_floor') !== 'floor') {
    throw ctx.fail(`Resize mode '${mode}' with '${transform}' coordinates (only nearest, asymmetric, floor)`);
  }
  const scales = Array.from(ctx.input(2).dataSync());
  if (x.rank !== 4 || scales[0] !== 1 || scales[3] !== 1 || !scales.every(Number.isInteger)) {
    throw ctx.fail(`Resize scales [${scales.join(', ')}] (only whole scales on the middle axes of a rank-4 tensor)`);
  }
  const size: [number, number] = [x.shape[1]! * scales[1], x.shape[2]! * scales[2]];
  return [tf.image.resizeNearestNeighbor(x as tf.Tensor4D, size, false, false)];
}

export const SPATIAL_OPS: Readonly<Record<string, OpImplementation>> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  Resize: resize,
};
