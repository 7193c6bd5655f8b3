/**
 * Converters for Keras's padding, cropping and repeating layers (keras/src/layers/reshaping/), all
 * channels-last: ZeroPadding2D is ONNX Pad, Cropping2D a Slice, RepeatVector an Unsqueeze and a Tile.
 */
import { ConversionError } from './errors';
import { numberOr, requireChannelsLast, type LayerContext, type LayerConverter } from './keras-layer-context';

function int64(ctx: LayerContext, name: string, values: ReadonlyArray<number | bigint>): string {
  return ctx.g.constant(`${ctx.base}/${name}`, [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
}

/** tfjs's [[top, bottom], [left, right]] (it also reads Keras's single int and (vertical, horizontal) pair). */
function sides(ctx: LayerContext, key: string): [[number, number], [number, number]] {
  const v = ctx.config[key];
  const pair = (p: unknown): [number, number] | undefined =>
    typeof p === 'number' ? [p, p] : Array.isArray(p) && p.length === 2 && p.every((n) => typeof n === 'number') ? [p[0], p[1]] : undefined;
  const rows = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : undefined;
  const top = rows && pair(rows[0]);
  const left = rows && pair(rows[1]);
  if (!top || !left || ![...top, ...left].every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ConversionError(
      `${ctx.where}: config '${key}' must be [[top, bottom], [left, right]] of non-negative integers, got ${JSON.stringify(v)}`,
    );
  }
  return [top, left];
}

const zeroPadding2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const [[top, bottom], [left, right]] = sides(ctx, 'padding');
  // Pad's pads are every axis's begin, then every axis's end: [batch, height, width, channels].
  return ctx.g.node('Pad', [ctx.x, int64(ctx, 'pads', [0, top, left, 0, 0, bottom, right, 0])], ctx.base, { mode: 'constant' });
};

const INT64_MAX = 2n ** 63n - 1n;

const cropping2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const [[top, bottom], [left, right]] = sides(ctx, 'cropping');
  // A negative end counts from the far side, so the crop holds for any height and width.
  const end = (n: number) => (n === 0 ? INT64_MAX : BigInt(-n));
  const inputs = [ctx.x, int64(ctx, 'starts', [top, left]), int64(ctx, 'ends', [end(bottom), end(right)]), int64(ctx, 'axes', [1, 2])];
  return ctx.g.node('Slice', inputs, ctx.base);
};

const repeatVector: LayerConverter = (ctx) => {
  const n = numberOr(ctx, 'n', NaN);
  if (!Number.isInteger(n) || n < 1)
    throw new ConversionError(`${ctx.where}: config 'n' must be a positive integer, got ${JSON.stringify(ctx.config.n)}`);
  if (ctx.inShape.length !== 2) throw new ConversionError(`${ctx.where}: takes [batch, features], got a rank-${ctx.inShape.length} input`);
  const unsqueezed = ctx.g.node('Unsqueeze', [ctx.x, int64(ctx, 'axes', [1])], ctx.base); // [batch, 1, features]
  return ctx.g.node('Tile', [unsqueezed, int64(ctx, 'repeats', [1, n, 1])], ctx.base);
};

export const RESHAPING_LAYERS: Readonly<Record<string, LayerConverter>> = {
  ZeroPadding2D: zeroPadding2d,
  Cropping2D: cropping2d,
  RepeatVector: repeatVector,
};
