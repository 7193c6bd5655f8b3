/**
 * Converters for channels-last convolution and pooling layers. Keras holds images as NHWC and
 * ONNX Conv/Pool want NCHW, so each layer is wrapped in transposes; cancelTransposePairs later
 * removes the pairs that fall between two such layers.
 */
import type { AttributeValue } from './onnx-builder';
import { emitActivation, isElementwise } from './keras-activations';
import {
  booleanOr,
  intList,
  LayerContext,
  LayerConverter,
  optionalString,
  requireChannelsLast,
  unsupported,
  weight,
} from './keras-layer-context';
import { transposeArray } from './transpose-array';
import { ConversionError } from './errors';

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);

export function toChannelsFirst(ctx: LayerContext, x: string, r: number): string {
  return ctx.g.node('Transpose', [x], ctx.base, { perm: [0, r + 1, ...range(r, 1)] });
}

export function toChannelsLast(ctx: LayerContext, x: string, r: number): string {
  return ctx.g.node('Transpose', [x], ctx.base, { perm: [0, ...range(r, 2), 1] });
}

/**
 * ONNX padding attributes that reproduce Keras' 'valid' and 'same'. 'causal' is left out: tfjs
 * cannot run it, so a conversion of it could not be checked.
 */
export function paddingAttributes(
  ctx: LayerContext,
  kernel: number[],
  strides: number[],
  dilations: number[],
): Record<string, AttributeValue> {
  const padding = optionalString(ctx, 'padding') ?? 'valid';
  const r = kernel.length;
  if (padding === 'valid') return { pads: new Array<number>(2 * r).fill(0) };
  if (padding !== 'same') throw unsupported(ctx, `padding '${padding}'`);
  const spatial = ctx.inShape.slice(1, 1 + r);
  // Explicit pads are preferred (runtimes differ on auto_pad with dilation); SAME_UPPER, which is
  // also TF's rule, is the fallback when a spatial size is only known at run time.
  if (spatial.some((d) => d === null)) return { auto_pad: 'SAME_UPPER' };
  const begin: number[] = [];
  const end: number[] = [];
  spatial.forEach((d, i) => {
    const size = d as number;
    const out = Math.ceil(size / strides[i]);
    const total = Math.max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  });
  return { pads: [...begin, ...end] };
}

const conv =
  (r: number): LayerConverter =>
  (ctx) => {
    requireChannelsLast(ctx);
    const groups = ctx.config.groups;
    if (groups !== undefined && groups !== null && groups !== 1) throw unsupported(ctx, `groups=${JSON.stringify(groups)}`);
    const { g, base } = ctx;
    const kernel = weight(ctx, 'kernel');
    if (kernel.shape.length !== r + 2)
      throw new ConversionError(`${ctx.where}: kernel has shape [${kernel.shape.join(', ')}], expected rank ${r + 2}`);
    const kernelShape = kernel.shape.slice(0, r);
    const ones = new Array<number>(r).fill(1);
    const strides = intList(ctx, 'strides', r, ones);
    const dilations = intList(ctx, 'dilationRate', r, ones);
    // Keras kernels are [spatial..., in, out]; ONNX wants [out, in, spatial...].
    const w = transposeArray(kernel.data, kernel.shape, [r + 1, r, ...range(r)]);
    const inputs = [toChannelsFirst(ctx, ctx.x, r), g.constant(`${base}/kernel`, w.shape, w.data)];
    if (booleanOr(ctx, 'useBias', true)) {
      const bias = weight(ctx, 'bias');
      inputs.push(g.constant(`${base}/bias`, bias.shape, bias.data));
    }
    const y = g.node('Conv', inputs, base, {
      kernel_shape: kernelShape,
      strides,
      dilations,
      group: 1,
      ...paddingAttributes(ctx, kernelShape, strides, dilations),
    });
    const act = optionalString(ctx, 'activation');
    // Element-wise activations run before the transpose back, so that the transposes between
    // consecutive conv/pool layers are adjacent and cancel; softmax-like ones need the channel axis last.
    if (act === undefined || isElementwise(act)) return toChannelsLast(ctx, emitActivation(g, act, y, base, ctx.where), r);
    return emitActivation(g, act, toChannelsLast(ctx, y, r), base, ctx.where);
  };

const pool =
  (r: number, op: 'MaxPool' | 'AveragePool'): LayerConverter =>
  (ctx) => {
    requireChannelsLast(ctx);
    const poolSize = intList(ctx, 'poolSize', r);
    const strides = intList(ctx, 'strides', r, poolSize);
    const attributes: Record<string, AttributeValue> = {
      kernel_shape: poolSize,
      strides,
      ...paddingAttributes(ctx, poolSize, strides, new Array<number>(r).fill(1)),
    };
    // TF averages 'same'-padded windows over the real elements only.
    if (op === 'AveragePool') attributes.count_include_pad = 0;
    const y = ctx.g.node(op, [toChannelsFirst(ctx, ctx.x, r)], ctx.base, attributes);
    return toChannelsLast(ctx, y, r);
  };

const globalPool =
  (r: number, op: 'ReduceMean' | 'ReduceMax'): LayerConverter =>
  (ctx) => {
    requireChannelsLast(ctx);
    const keep = booleanOr(ctx, 'keepDims', false);
    return ctx.g.node(op, [ctx.x], ctx.base, { axes: range(r, 1), keepdims: keep ? 1 : 0 });
  };

export const SPATIAL_LAYERS: Readonly<Record<string, LayerConverter>> = {
  Conv1D: conv(1),
  Conv2D: conv(2),
  MaxPooling1D: pool(1, 'MaxPool'),
  MaxPooling2D: pool(2, 'MaxPool'),
  AveragePooling1D: pool(1, 'AveragePool'),
  AveragePooling2D: pool(2, 'AveragePool'),
  GlobalAveragePooling1D: globalPool(1, 'ReduceMean'),
  GlobalAveragePooling2D: globalPool(2, 'ReduceMean'),
  GlobalMaxPooling1D: globalPool(1, 'ReduceMax'),
  GlobalMaxPooling2D: globalPool(2, 'ReduceMax'),
};
