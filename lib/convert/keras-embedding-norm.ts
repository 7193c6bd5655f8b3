/**
 * Converters for Embedding (a Gather of rows) and LayerNormalization (written out in opset-13 ops,
 * since ONNX's own LayerNormalization op needs opset 17).
 */
import { booleanOr, numberOr, unsupported, weight, type LayerConverter } from './keras-layer-context';

const embedding: LayerConverter = (ctx) => {
  const table = weight(ctx, 'embeddings');
  if (booleanOr(ctx, 'maskZero', false)) throw unsupported(ctx, 'maskZero (masks are not carried into ONNX)');
  // Gather takes int32 or int64 indices; a float input (tfjs casts) is cast the same way.
  const indices = ctx.g.node('Cast', [ctx.x], ctx.base, { to: 7 }); // INT64
  return ctx.g.node('Gather', [ctx.g.constant(`${ctx.base}/embeddings`, table.shape, table.data), indices], ctx.base, { axis: 0 });
};

const layerNormalization: LayerConverter = (ctx) => {
  const rank = ctx.inShape.length;
  const raw = ctx.config.axis;
  const axes = (Array.isArray(raw) ? raw : [raw ?? -1]).map((a) => (typeof a === 'number' && a < 0 ? a + rank : a));
  if (axes.length !== 1 || axes[0] !== rank - 1)
    throw unsupported(ctx, `normalization over axes ${JSON.stringify(raw)} (only the last axis)`);
  const eps = numberOr(ctx, 'epsilon', 1e-3);
  const { g, base } = ctx;
  const mean = g.node('ReduceMean', [ctx.x], base, { axes: [-1], keepdims: 1 });
  const centered = g.node('Sub', [ctx.x, mean], base);
  const variance = g.node('ReduceMean', [g.node('Mul', [centered, centered], base)], base, { axes: [-1], keepdims: 1 });
  let y = g.node('Div', [centered, g.node('Sqrt', [g.node('Add', [variance, g.scalar(eps)], base)], base)], base);
  if (booleanOr(ctx, 'scale', true)) {
    const gamma = weight(ctx, 'gamma');
    y = g.node('Mul', [y, g.constant(`${base}/gamma`, gamma.shape, gamma.data)], base);
  }
  if (booleanOr(ctx, 'center', true)) {
    const beta = weight(ctx, 'beta');
    y = g.node('Add', [y, g.constant(`${base}/beta`, beta.shape, beta.data)], base);
  }
  return y;
};

export const EMBEDDING_NORM_LAYERS: Readonly<Record<string, LayerConverter>> = {
  Embedding: embedding,
  LayerNormalization: layerNormalization,
};
