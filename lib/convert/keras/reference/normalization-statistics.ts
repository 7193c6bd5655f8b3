/**
 * Where a Keras Normalization layer's mean and variance sit (keras/src/layers/preprocessing/
 * normalization.py build()): the kept axes, the statistics' own shape, and the shape they broadcast
 * to against the input. Shared by the tfjs twin (layers.ts) and the ONNX converter, so both place the
 * same numbers on the same axes.
 */
import { ConversionError } from '../../errors';

type Shape = ReadonlyArray<number | null>;

export interface NormalizationLayout {
  /** Kept axes, non-negative and sorted. */
  readonly keepAxes: readonly number[];
  /** The shape of the adapted mean and variance weights: the input's size on each kept axis. */
  readonly statisticShape: number[];
  /** The input's rank, with 1 on every reduced axis (the batch included). */
  readonly broadcastShape: number[];
}

/** Keras's `axis` (an int, a list, or null for one scalar statistic) against an input shape. */
export function normalizationLayout(axis: unknown, inputShape: Shape, where: string): NormalizationLayout {
  const list = axis === null ? [] : typeof axis === 'number' ? [axis] : axis;
  const rank = inputShape.length;
  if (!Array.isArray(list) || !list.every((a) => Number.isInteger(a) && (a as number) >= -rank && (a as number) < rank)) {
    throw new ConversionError(`${where}: axis ${JSON.stringify(axis)} is not a list of axes of a rank-${rank} input`);
  }
  const keepAxes = [...new Set((list as number[]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (keepAxes.includes(0)) throw new ConversionError(`${where}: normalizing along the batch axis is not supported`);
  const statisticShape = keepAxes.map((d) => {
    const size = inputShape[d];
    if (size === null) throw new ConversionError(`${where}: kept axis ${d} has an unknown size`);
    return size;
  });
  const broadcastShape = inputShape.map((size, d) => (keepAxes.includes(d) ? (size as number) : 1));
  return { keepAxes, statisticShape, broadcastShape };
}

/**
 * A mean or variance given in the config, in the broadcast shape: a scalar fills it, and an array is
 * laid onto the kept axes from the right, as Keras lays it.
 */
export function normalizationStatistic(value: unknown, layout: NormalizationLayout, name: string, where: string): Float32Array {
  const size = layout.broadcastShape.reduce((a, b) => a * b, 1);
  if (typeof value === 'number') return new Float32Array(size).fill(value);
  const flat = Array.isArray(value) ? (value.flat(Infinity) as unknown[]) : [];
  if (flat.length !== size || !flat.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ConversionError(
      `${where}: config '${name}' must be a number or ${size} finite numbers (shape [${layout.statisticShape.join(', ')}]), got ${JSON.stringify(value)}`,
    );
  }
  return Float32Array.from(flat as number[]);
}
