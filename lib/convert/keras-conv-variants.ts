/**
 * Converters for the convolutions beyond a plain Conv: depthwise and separable convolutions (grouped
 * ONNX Convs), transposed convolutions (ConvTranspose) and nearest-neighbour upsampling (Resize).
 * Like the plain ones they run channels-first between transposes that cancelTransposePairs removes.
 */
import { emitActivation, isElementwise } from './keras-activations';
import {
  booleanOr,
  intList,
  optionalString,
  requireChannelsLast,
  unsupported,
  weight,
  type LayerContext,
  type LayerConverter,
} from './keras-layer-context';
import { paddingAttributes, toChannelsFirst, toChannelsLast } from './keras-spatial-layers';
import { transposeArray } from './transpose-array';
import { ConversionError } from './errors';

function finish(ctx: LayerContext, y: string, r: number): string {
  const act = optionalString(ctx, 'activation');
  if (act === undefined || isElementwise(act)) return toChannelsLast(ctx, emitActivation(ctx.g, act, y, ctx.base, ctx.where), r);
  return emitActivation(ctx.g, act, toChannelsLast(ctx, y, r), ctx.base, ctx.where);
}

function biasInput(ctx: LayerContext): string[] {
  if (!booleanOr(ctx, 'useBias', true)) return [];
  const bias = weight(ctx, 'bias');
  return [ctx.g.constant(`${ctx.base}/bias`, bias.shape, bias.data)];
}

/** A depthwise kernel [kh, kw, in, mult] as a grouped ONNX kernel [in * mult, 1, kh, kw]. */
function depthwiseKernel(ctx: LayerContext, name: string): { name: string; shape: number[]; channels: number } {
  const k = weight(ctx, name);
  if (k.shape.length !== 4) throw new ConversionError(`${ctx.where}: ${name} has shape [${k.shape.join(', ')}], expected rank 4`);
  const [kh, kw, inC, mult] = k.shape;
  const t = transposeArray(k.data, k.shape, [2, 3, 0, 1]); // [in, mult, kh, kw]; in-major is ONNX's group order
  return { name: ctx.g.constant(`${ctx.base}/${name}`, [inC * mult, 1, kh, kw], t.data), shape: [kh, kw], channels: inC };
}

function depthwiseConv(ctx: LayerContext, x: string, withBias: boolean): string {
  const kernel = depthwiseKernel(ctx, 'depthwise_kernel');
  const strides = intList(ctx, 'strides', 2, [1, 1]);
  const dilations = intList(ctx, 'dilationRate', 2, [1, 1]);
  return ctx.g.node('Conv', [x, kernel.name, ...(withBias ? biasInput(ctx) : [])], ctx.base, {
    kernel_shape: kernel.shape,
    strides,
    dilations,
    group: kernel.channels,
    ...paddingAttributes(ctx, kernel.shape, strides, dilations),
  });
}

const depthwiseConv2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  return finish(ctx, depthwiseConv(ctx, toChannelsFirst(ctx, ctx.x, 2), true), 2);
};

const separableConv2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const depthwise = depthwiseConv(ctx, toChannelsFirst(ctx, ctx.x, 2), false);
  const p = weight(ctx, 'pointwise_kernel'); // [1, 1, in * mult, out]
  if (p.shape.length !== 4 || p.shape[0] !== 1 || p.shape[1] !== 1)
    throw new ConversionError(`${ctx.where}: pointwise_kernel has shape [${p.shape.join(', ')}], expected [1, 1, in, out]`);
  const w = transposeArray(p.data, p.shape, [3, 2, 0, 1]);
  const y = ctx.g.node('Conv', [depthwise, ctx.g.constant(`${ctx.base}/pointwise_kernel`, w.shape, w.data), ...biasInput(ctx)], ctx.base, {
    kernel_shape: [1, 1],
    strides: [1, 1],
    dilations: [1, 1],
    group: 1,
    pads: [0, 0, 0, 0],
  });
  return finish(ctx, y, 2);
};

const conv2dTranspose: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const k = weight(ctx, 'kernel'); // [kh, kw, out, in]
  if (k.shape.length !== 4) throw new ConversionError(`${ctx.where}: kernel has shape [${k.shape.join(', ')}], expected rank 4`);
  const kernelShape = k.shape.slice(0, 2);
  const strides = intList(ctx, 'strides', 2, [1, 1]);
  const dilations = intList(ctx, 'dilationRate', 2, [1, 1]);
  if (dilations.some((d) => d !== 1)) throw unsupported(ctx, `dilationRate [${dilations.join(', ')}]`);
  if (ctx.config.outputPadding !== undefined && ctx.config.outputPadding !== null) throw unsupported(ctx, 'outputPadding');
  const padding = optionalString(ctx, 'padding') ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') throw unsupported(ctx, `padding '${padding}'`);
  // 'same' makes the output stride times the input: crop (kernel - stride) from the full output, the
  // smaller half first, as TensorFlow's conv2d_transpose does.
  const crop = kernelShape.map((kk, i) => (padding === 'same' ? Math.max(kk - strides[i], 0) : 0));
  const pads = [...crop.map((c) => Math.floor(c / 2)), ...crop.map((c) => c - Math.floor(c / 2))];
  const w = transposeArray(k.data, k.shape, [3, 2, 0, 1]); // ONNX ConvTranspose: [in, out, kh, kw]
  const y = ctx.g.node(
    'ConvTranspose',
    [toChannelsFirst(ctx, ctx.x, 2), ctx.g.constant(`${ctx.base}/kernel`, w.shape, w.data), ...biasInput(ctx)],
    ctx.base,
    {
      kernel_shape: kernelShape,
      strides,
      dilations,
      group: 1,
      pads,
    },
  );
  return finish(ctx, y, 2);
};

const upSampling2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const size = intList(ctx, 'size', 2, [2, 2]);
  const interpolation = optionalString(ctx, 'interpolation') ?? 'nearest';
  if (interpolation !== 'nearest') throw unsupported(ctx, `interpolation '${interpolation}'`);
  // Resize scales every axis, so NHWC needs no transpose: [1, sh, sw, 1].
  const scales = ctx.g.constant(`${ctx.base}/scales`, [4], new Float32Array([1, size[0], size[1], 1]));
  const roi = ctx.g.constant(`${ctx.base}/roi`, [0], new Float32Array(0));
  return ctx.g.node('Resize', [ctx.x, roi, scales], ctx.base, {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
};

export const CONV_VARIANT_LAYERS: Readonly<Record<string, LayerConverter>> = {
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  Conv2DTranspose: conv2dTranspose,
  UpSampling2D: upSampling2d,
};
