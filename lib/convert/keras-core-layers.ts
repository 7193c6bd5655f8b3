/**
 * Converters for Keras layers that do not care about spatial layout: Dense, activation layers,
 * shape layers, inference-time no-ops and BatchNormalization.
 */
import { emitActivation } from './keras-activations';
import { booleanOr, LayerConverter, numberOr, optionalString, unsupported, weight } from './keras-layer-context';
import { ConversionError } from './errors';

const identity: LayerConverter = (ctx) => ctx.x;

const dense: LayerConverter = (ctx) => {
  const { g, base } = ctx;
  const kernel = weight(ctx, 'kernel');
  const w = g.constant(`${base}/kernel`, kernel.shape, kernel.data);
  const bias = booleanOr(ctx, 'useBias', true) ? weight(ctx, 'bias') : undefined;
  const b = bias ? g.constant(`${base}/bias`, bias.shape, bias.data) : undefined;
  let y: string;
  if (ctx.inShape.length === 2) {
    // Gemm is the one op every ONNX runtime fuses well for a rank-2 dense layer.
    y = g.node('Gemm', b ? [ctx.x, w, b] : [ctx.x, w], base);
  } else {
    // Keras applies Dense to the last axis of higher-rank inputs; MatMul broadcasts the same way.
    y = g.node('MatMul', [ctx.x, w], base);
    if (b) y = g.node('Add', [y, b], base);
  }
  return emitActivation(g, optionalString(ctx, 'activation'), y, base, ctx.where);
};

const activation: LayerConverter = (ctx) => {
  const name = optionalString(ctx, 'activation');
  if (name === undefined) throw new ConversionError(`${ctx.where}: config 'activation' is missing`);
  return emitActivation(ctx.g, name, ctx.x, ctx.base, ctx.where);
};

const relu: LayerConverter = (ctx) => {
  const max = ctx.config.maxValue;
  if (max === undefined || max === null) return ctx.g.node('Relu', [ctx.x], ctx.base);
  if (typeof max !== 'number') throw new ConversionError(`${ctx.where}: config 'maxValue' must be a number, got ${JSON.stringify(max)}`);
  return ctx.g.node('Clip', [ctx.x, ctx.g.scalar(0), ctx.g.scalar(max)], ctx.base);
};

const leakyRelu: LayerConverter = (ctx) => ctx.g.node('LeakyRelu', [ctx.x], ctx.base, { alpha: { float: numberOr(ctx, 'alpha', 0.3) } });

const elu: LayerConverter = (ctx) => ctx.g.node('Elu', [ctx.x], ctx.base, { alpha: { float: numberOr(ctx, 'alpha', 1) } });

const thresholdedRelu: LayerConverter = (ctx) =>
  ctx.g.node('ThresholdedRelu', [ctx.x], ctx.base, { alpha: { float: numberOr(ctx, 'theta', 1) } });

const softmax: LayerConverter = (ctx) => {
  const raw = ctx.config.axis;
  const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : (raw ?? 1);
  if (typeof axis !== 'number') throw unsupported(ctx, `softmax over axes ${JSON.stringify(raw)}`);
  return ctx.g.node('Softmax', [ctx.x], ctx.base, { axis });
};

const prelu: LayerConverter = (ctx) => {
  const alpha = weight(ctx, 'alpha');
  // The slope has the input's shape without batch (1 on shared axes): ONNX PRelu broadcasts it the same way.
  return ctx.g.node('PRelu', [ctx.x, ctx.g.constant(`${ctx.base}/alpha`, alpha.shape, alpha.data)], ctx.base);
};

const flatten: LayerConverter = (ctx) => {
  const format = optionalString(ctx, 'dataFormat');
  if (format === 'channelsFirst' || format === 'channels_first') throw unsupported(ctx, `dataFormat '${format}'`);
  // Tensors stay channels-last between layers, so ONNX Flatten gives Keras' element order.
  if (ctx.inShape.length === 2) return ctx.x;
  return ctx.g.node('Flatten', [ctx.x], ctx.base, { axis: 1 });
};

const reshape: LayerConverter = (ctx) => {
  const target = ctx.config.targetShape;
  // tfjs stores Keras' inferred dimension (-1) as null.
  if (!Array.isArray(target) || !target.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d)))) {
    throw new ConversionError(`${ctx.where}: config 'targetShape' must be a list of integers, got ${JSON.stringify(target)}`);
  }
  // 0 copies the batch dimension from the input (opset 13 Reshape), which keeps the batch dynamic.
  const dims = [0, ...(target as Array<number | null>).map((d) => d ?? -1)];
  const shape = BigInt64Array.from(dims.map((d) => BigInt(d)));
  return ctx.g.node('Reshape', [ctx.x, ctx.g.constant(`${ctx.base}/shape`, [shape.length], shape)], ctx.base);
};

const permute: LayerConverter = (ctx) => {
  const dims = ctx.config.dims;
  if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'number')) {
    throw new ConversionError(`${ctx.where}: config 'dims' must be a list of integers, got ${JSON.stringify(dims)}`);
  }
  // Keras' dims are 1-based and exclude the batch axis.
  return ctx.g.node('Transpose', [ctx.x], ctx.base, { perm: [0, ...dims] });
};

const batchNormalization: LayerConverter = (ctx) => {
  const rank = ctx.inShape.length;
  const axis = numberOr(ctx, 'axis', -1);
  if (axis !== -1 && axis !== rank - 1) throw unsupported(ctx, `normalization over axis ${axis} (only the last axis)`);
  const eps = numberOr(ctx, 'epsilon', 1e-3);
  const mean = weight(ctx, 'moving_mean').data;
  const variance = weight(ctx, 'moving_variance').data;
  const gamma = booleanOr(ctx, 'scale', true) ? weight(ctx, 'gamma').data : undefined;
  const beta = booleanOr(ctx, 'center', true) ? weight(ctx, 'beta').data : undefined;
  // At inference BatchNormalization is an affine map per channel: fold it into one Mul and one Add.
  const n = mean.length;
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const s = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    scale[c] = s;
    shift[c] = (beta ? beta[c] : 0) - mean[c] * s;
  }
  const { g, base } = ctx;
  const scaled = g.node('Mul', [ctx.x, g.constant(`${base}/scale`, [n], scale)], base);
  return g.node('Add', [scaled, g.constant(`${base}/shift`, [n], shift)], base);
};

export const CORE_LAYERS: Readonly<Record<string, LayerConverter>> = {
  InputLayer: identity,
  // Dropout and noise layers only act while training.
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  Dense: dense,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  ThresholdedReLU: thresholdedRelu,
  Softmax: softmax,
  PReLU: prelu,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  BatchNormalization: batchNormalization,
};
