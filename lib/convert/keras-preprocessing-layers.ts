/**
 * Converters for Keras's numeric preprocessing layers that a saved model carries: Rescaling
 * (x * scale + offset) and Normalization ((x - mean) / max(sqrt(variance), 1e-7), or its inverse),
 * whose statistics sit where keras/reference/normalization-statistics.ts places them for the twin too.
 */
import { ConversionError } from './errors';
import { booleanOr, type LayerContext, type LayerConverter } from './keras-layer-context';
import { NORMALIZATION_EPSILON } from './keras/reference/layers';
import { normalizationLayout, normalizationStatistic } from './keras/reference/normalization-statistics';

/** A number, or a list Keras broadcasts over the last axis. */
function scaleConstant(ctx: LayerContext, key: string, fallback: number): string {
  const v = ctx.config[key] ?? fallback;
  if (typeof v === 'number') return ctx.g.scalar(v);
  if (Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'number')) {
    return ctx.g.constant(`${ctx.base}/${key}`, [v.length], Float32Array.from(v));
  }
  throw new ConversionError(`${ctx.where}: config '${key}' must be a number or a list of numbers, got ${JSON.stringify(v)}`);
}

const rescaling: LayerConverter = (ctx) => {
  const scaled = ctx.g.node('Mul', [ctx.x, scaleConstant(ctx, 'scale', 1)], ctx.base);
  return ctx.g.node('Add', [scaled, scaleConstant(ctx, 'offset', 0)], ctx.base);
};

const normalization: LayerConverter = (ctx) => {
  const layout = normalizationLayout(ctx.config.axis === undefined ? [-1] : ctx.config.axis, ctx.inShape, ctx.where);
  const fromConfig = ctx.config.mean !== undefined && ctx.config.mean !== null;
  const statistic = (name: 'mean' | 'variance'): Float32Array => {
    if (fromConfig) return normalizationStatistic(ctx.config[name], layout, name, ctx.where);
    const w = ctx.weights.get(name);
    if (!w) throw new ConversionError(`${ctx.where}: the layer has no '${name}' weight; was it adapted?`);
    // The kept axes are sorted and every other axis is 1, so the weight's order is the broadcast order.
    return w.data;
  };
  const mean = statistic('mean');
  const denominator = statistic('variance').map((v) => Math.max(Math.fround(Math.sqrt(v)), Math.fround(NORMALIZATION_EPSILON)));
  const { g, base } = ctx;
  const meanName = g.constant(`${base}/mean`, layout.broadcastShape, mean);
  const denominatorName = g.constant(`${base}/denominator`, layout.broadcastShape, denominator);
  if (booleanOr(ctx, 'invert', false)) return g.node('Add', [meanName, g.node('Mul', [ctx.x, denominatorName], base)], base);
  return g.node('Div', [g.node('Sub', [ctx.x, meanName], base), denominatorName], base);
};

export const PREPROCESSING_LAYERS: Readonly<Record<string, LayerConverter>> = {
  Rescaling: rescaling,
  Normalization: normalization,
};
