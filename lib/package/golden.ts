/**
 * Golden samples: v2 requests recorded at packaging with the answers the model gave. `verify`,
 * the canary pre-traffic hook and tests all compare a fresh answer against them with `compareOutputs`.
 */
import { DATATYPE_INFO, type Datatype, elementCount } from '../protocol/datatypes';
import type { TensorMetadata } from '../protocol/types';
import type { ToleranceByDatatype, Tolerance } from './manifest';
import { seededRandom } from './seeded-random';

/** A v2 request body as JSON. */
export interface SampleRequest {
  readonly id?: string;
  readonly inputs: ReadonlyArray<{ name: string; datatype: Datatype; shape: number[]; data: unknown[] }>;
  readonly outputs?: ReadonlyArray<{ name: string }>;
}

/** An output as it appears in a v2 JSON response. */
export interface WireOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
}

/** A golden response file: samples/N.response.json. */
export interface GoldenResponse {
  readonly outputs: readonly WireOutput[];
}

/**
 * How far a float output may drift from its recording and still count as the same answer.
 * Wide enough for another CPU's kernels (x86_64 recording, arm64 Lambda), narrow enough that other weights fail.
 */
export const DEFAULT_TOLERANCE: Required<ToleranceByDatatype> = {
  FP16: { atol: 1e-2, rtol: 1e-2 },
  FP32: { atol: 1e-4, rtol: 1e-3 },
  FP64: { atol: 1e-9, rtol: 1e-7 },
};

/** Deterministic inputs of the declared shapes; dynamic dimensions take size 1. */
export function syntheticRequest(inputs: readonly TensorMetadata[], seed: number): SampleRequest {
  const random = seededRandom(seed);
  return {
    id: `synthetic-${seed}`,
    inputs: inputs.map((spec) => {
      const shape = spec.shape.map((d) => (d === -1 ? 1 : d));
      const n = elementCount(shape);
      const info = DATATYPE_INFO[spec.datatype];
      const data = Array.from({ length: n }, (_, i): unknown => {
        const r = random();
        switch (info.json) {
          case 'boolean':
            return r < 0.5;
          case 'string':
            return `sample-${seed}-${i}`;
          // Small non-negative integers are valid for every integer type, and for indices into most tables.
          case 'integer':
            return Math.floor(r * 10);
          default:
            return Math.round(r * 1e4) / 1e4;
        }
      });
      return { name: spec.name, datatype: spec.datatype, shape, data };
    }),
  };
}

/** How far `actual` may be from `expected`, numpy.allclose's rule: atol + rtol * |expected|. */
export function allowedDifference(expected: number, tol: Tolerance): number {
  return tol.atol + tol.rtol * Math.abs(expected);
}

function differs(a: unknown, e: unknown, tol: Tolerance | undefined): string | undefined {
  if (tol === undefined) return String(a) === String(e) ? undefined : 'not equal';
  // null stands for NaN or an infinity in JSON; two nulls agree.
  if (a === null || e === null) return a === e ? undefined : 'one is null';
  if (typeof a !== 'number' || typeof e !== 'number') return 'not a number';
  const diff = Math.abs(a - e);
  const allowed = allowedDifference(e, tol);
  return diff <= allowed ? undefined : `|diff| ${diff.toPrecision(3)} > tolerance ${allowed.toPrecision(3)}`;
}

/**
 * Compares fresh outputs with recorded ones. Returns one line per difference (empty when they agree),
 * each naming the output and, for data, the first element that differs.
 */
export function compareOutputs(
  expected: readonly WireOutput[],
  actual: readonly WireOutput[],
  tolerance: ToleranceByDatatype = DEFAULT_TOLERANCE,
): string[] {
  const problems: string[] = [];
  const byName = new Map(actual.map((o) => [o.name, o]));
  for (const e of expected) {
    const a = byName.get(e.name);
    if (!a) {
      problems.push(`output '${e.name}' is missing`);
      continue;
    }
    if (a.datatype !== e.datatype) {
      problems.push(`output '${e.name}': datatype ${a.datatype}, expected ${e.datatype}`);
      continue;
    }
    if (a.shape.join(',') !== e.shape.join(',')) {
      problems.push(`output '${e.name}': shape [${a.shape.join(',')}], expected [${e.shape.join(',')}]`);
      continue;
    }
    if (a.data.length !== e.data.length) {
      problems.push(`output '${e.name}': ${a.data.length} elements, expected ${e.data.length}`);
      continue;
    }
    const tol =
      e.datatype === 'FP16' || e.datatype === 'FP32' || e.datatype === 'FP64'
        ? (tolerance[e.datatype] ?? DEFAULT_TOLERANCE[e.datatype])
        : undefined;
    let bad = 0;
    let first: string | undefined;
    for (let i = 0; i < e.data.length; i++) {
      const why = differs(a.data[i], e.data[i], tol);
      if (why === undefined) continue;
      bad++;
      first ??= `element ${i}: got ${String(a.data[i])}, expected ${String(e.data[i])} (${why})`;
    }
    if (bad > 0) problems.push(`output '${e.name}' differs in ${bad} of ${e.data.length} elements; first at ${first}`);
  }
  return problems;
}
