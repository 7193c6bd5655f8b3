/**
 * Compares the converted model's outputs with the original's, element by element, the way
 * numpy.allclose does: |actual - expected| <= atol + rtol * |expected|.
 */
import { allowedDifference } from '../package/golden';
import type { Tolerance } from '../package/manifest';
import { ConversionError } from './errors';

export type { Tolerance };

export interface Comparison {
  /** Largest |actual - expected| over all elements. */
  readonly maxAbsDiff: number;
  /** The first element outside tolerance, if any. */
  readonly failure?: {
    readonly index: number;
    readonly expected: number;
    readonly actual: number;
    readonly diff: number;
    readonly allowed: number;
  };
}

export function compareOutputs(expected: ArrayLike<number>, actual: ArrayLike<number>, tol: Tolerance): Comparison {
  if (expected.length !== actual.length) {
    throw new ConversionError(`output sizes differ: expected ${expected.length} elements, got ${actual.length}`);
  }
  let maxAbsDiff = 0;
  let failure: Comparison['failure'];
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    const diff = Math.abs(a - e);
    // NaN never compares as close: a NaN on either side is a conversion failure, not noise.
    const allowed = allowedDifference(e, tol);
    const bad = Number.isNaN(diff) || diff > allowed;
    // Once NaN, maxAbsDiff stays NaN: `diff > NaN` is always false.
    if (Number.isNaN(diff)) maxAbsDiff = Number.NaN;
    else if (diff > maxAbsDiff) maxAbsDiff = diff;
    if (bad && !failure) failure = { index: i, expected: e, actual: a, diff, allowed };
  }
  return { maxAbsDiff, failure };
}

/**
 * Throws when any sample's output is outside tolerance, naming the sample (a row of the batch).
 * Returns the largest absolute difference seen.
 */
export function assertOutputsClose(expected: ArrayLike<number>, actual: ArrayLike<number>, samples: number, tol: Tolerance): number {
  const result = compareOutputs(expected, actual, tol);
  if (result.failure) {
    const perSample = expected.length / samples;
    const { index, expected: e, actual: a, diff, allowed } = result.failure;
    const sample = Math.floor(index / perSample);
    throw new ConversionError(
      `ONNX output differs from tfjs at sample ${sample} (element ${index - sample * perSample}): ` +
        `expected ${e}, got ${a}, |diff| = ${diff} > ${allowed} (atol ${tol.atol} + rtol ${tol.rtol} * |expected|)`,
    );
  }
  return result.maxAbsDiff;
}
