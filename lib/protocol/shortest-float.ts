/**
 * The shortest decimal that reads back to a given float32 (or float16): any client that parses it as a
 * double and rounds that to float32 (Math.fround, numpy's astype) gets the original float back. A float32
 * written as its double has 17 digits: 0.0001540805387776345 where 0.00015408054 is enough.
 *
 * The result is a decimal n·10^k, left in `found`. Why the search is right, for float32 (float16 alike,
 * with 5 digits for 9):
 * - 9 significant digits always round-trip a float32, so the shortest has q <= 9 digits.
 * - The decimals that round to v form an interval around v. If some q-digit decimal lies in it, so does
 *   the q-digit decimal just below or just above v. Any q-digit decimal is also a (q+1)-digit one, so
 *   whether q digits suffice is monotone in q: a search may stop at the first q that fails.
 * - A candidate is checked exactly: for |k| <= 22, n and 10^|k| are exact doubles, so one multiplication
 *   or division gives the correctly rounded double, the one every parser reads. Further out an
 *   approximation decides when its whole error interval rounds to one float, and Number on the text
 *   decides the rest.
 * The fast path for float32 finds the candidate in the scaled interval directly, and is kept only when
 * no comparison was close enough to doubt and the candidate passes the exact check; otherwise the
 * search above decides. test/protocol/shortest-float.test.ts holds both to toPrecision on millions of
 * bit patterns.
 */

// Module-scope aliases: a global look-up per call is slow where code runs in a vm context (jest, REPLs).
const { abs, ceil, floor, fround, log10, round: roundHalfUp } = Math;

/** 10^i as correctly rounded doubles, i in -70..70 (exact for 0..22). */
const POW10 = Array.from({ length: 141 }, (_, i) => Number(`1e${i - 70}`));
const pow10 = (i: number) => POW10[i + 70];

/** Relative error that bounds the approximated candidates (a few roundings of 2^-53), with room to spare. */
const GUARD = 2 ** -48;

type Rounding = (x: number) => number;

/** The shortest decimal found: the value n·10^k, n an integer without trailing zeros. */
export const found = { n: 0, k: 0 };

/** The double that n·10^k parses to, or NaN when only Number on the text can tell. */
function exactDouble(n: number, k: number): number {
  if (k >= 0 && k <= 22) return n * pow10(k);
  if (k < 0 && k >= -22) return n / pow10(-k);
  return NaN;
}

/** The double that n·10^k parses to. */
export function decimalToDouble(n: number, k: number): number {
  const d = exactDouble(n, k);
  return d === d ? d : Number(`${n}e${k}`);
}

/** Whether n·10^k reads back to `target` through `round`. */
function readsBack(n: number, k: number, target: number, round: Rounding): boolean {
  const exact = exactDouble(n, k);
  if (exact === exact) return round(exact) === target;
  const approx = k > 0 ? n * pow10(22) * pow10(k - 22) : n / pow10(22) / pow10(-k - 22);
  const lo = round(approx * (1 - GUARD));
  const hi = round(approx * (1 + GUARD));
  if (lo === hi) return lo === target;
  return round(Number(`${n}e${k}`)) === target;
}

function setFound(n: number, k: number): void {
  while (n % 10 === 0) {
    n /= 10;
    k++;
  }
  found.n = n;
  found.k = k;
}

/** Whether some q-digit decimal reads back to a (> 0, decimal exponent e); sets `found` to the nearer one. */
function fits(a: number, e: number, q: number, round: Rounding): boolean {
  const k = e - q + 1;
  const t = k >= 0 ? a / pow10(k) : a * pow10(-k);
  const below = floor(t);
  const above = below + 1;
  const nearer = t - below <= above - t ? below : above;
  const other = nearer === below ? above : below;
  if (nearer > 0 && readsBack(nearer, k, a, round)) setFound(nearer, k);
  else if (other > 0 && readsBack(other, k, a, round)) setFound(other, k);
  else return false;
  return true;
}

function digitCount(n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = floor(x / 10)) digits++;
  return digits;
}

/**
 * Sets `found` to the shortest decimal that reads back to a (finite, > 0) through `round`, trying
 * q = 1..maxDigits. Most values need all or all but one of the digits, so the search starts at
 * maxDigits - 1 and walks down while it still fits; a fit with trailing zeros skips past them.
 */
export function searchShortest(a: number, maxDigits: number, round: Rounding): void {
  let e = floor(log10(a));
  if (pow10(e) > a) e--;
  else if (pow10(e + 1) <= a) e++;
  if (!fits(a, e, maxDigits - 1, round)) {
    // maxDigits always fit; should the arithmetic ever say otherwise, toExponential's correctly rounded digits do.
    if (!fits(a, e, maxDigits, round)) {
      const [mantissa, exponent] = a.toExponential(maxDigits - 1).split('e');
      setFound(Number(mantissa.replace('.', '')), Number(exponent) - maxDigits + 1);
    }
    return;
  }
  // fits leaves `found` alone when it fails, so the last fit stays.
  for (let q = digitCount(found.n); q > 1 && fits(a, e, q - 1, round);) q = digitCount(found.n);
}

/** Half the gap to each neighbouring float32, by biased exponent: 2^(exponent - 151), and 2^-150 for subnormals. */
const HALF_ULP = Float64Array.from({ length: 256 }, (_, x) => 2 ** (Math.max(x, 1) - 151));

/** Scaled distances closer than this to a boundary are not trusted: the scaled values carry about 1e-6 of error. */
const DOUBT = 1e-4;

const LOG10_2 = log10(2);

/**
 * Sets `found` for the float32 whose bits are `bits` and absolute value is `a` (finite, > 0). The decimals
 * that read back to it, scaled by 10^(8-e) to nine integer digits, are the interval [lo, hi]; the one with
 * the most trailing zeros (the nearest, among several) is the shortest.
 */
export function shortestFloat32Decimal(bits: number, a: number): void {
  const exponent = (bits >>> 23) & 0xff;
  // floor(log10(a)) from the binary exponent: at most one short, which one comparison mends.
  let e = exponent === 0 ? floor(log10(a)) : floor((exponent - 127) * LOG10_2);
  if (a >= pow10(e + 1)) e++;
  const scale = pow10(8 - e);
  const t = a * scale;
  const up = HALF_ULP[exponent] * scale;
  // Just above a power of two, the float below is half as far.
  const down = (bits & 0x7fffff) === 0 && exponent > 1 ? up / 2 : up;
  const lo = t - down;
  const hi = t + up;
  let best = 0;
  let zeros = -1;
  for (let z = 0, p = 1; z <= 10; z++, p *= 10) {
    // Multiplying by the inverse may put lo / p one ulp off an integer: the margins below catch that.
    const c = ceil(lo * pow10(-z)) * p;
    const margin = c - lo;
    if (margin < DOUBT || margin > p - DOUBT || abs(hi - c) < DOUBT) {
      searchShortest(a, 9, fround);
      return;
    }
    if (c > hi) break;
    best = c;
    zeros = z;
  }
  if (zeros < 0) {
    searchShortest(a, 9, fround);
    return;
  }
  const power = pow10(zeros);
  const nearest = roundHalfUp(t * pow10(-zeros)) * power;
  if (nearest - lo > DOUBT && hi - nearest > DOUBT) best = nearest;
  // best is a multiple of 10^zeros and of no higher power (that one would have fitted), so n has no
  // trailing zeros; it is below 10^9 + 1, an int32.
  const n = best / power;
  const k = e - 8 + zeros;
  if ((n | 0) % 10 !== 0 && readsBack(n, k, a, fround)) {
    found.n = n;
    found.k = k;
  } else {
    searchShortest(a, 9, fround);
  }
}

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/** The double of the shortest decimal for float32 v, whose String() writes that decimal. Zeros, NaN and infinities come back as they are. */
export function shortestFloat32(v: number): number {
  if (v === 0 || v !== v || v === Infinity || v === -Infinity) return v;
  float32[0] = v;
  shortestFloat32Decimal(float32Bits[0], abs(v));
  const d = decimalToDouble(found.n, found.k);
  return v < 0 ? -d : d;
}

/** The same for a float16 value v held as a double, `round` being the float16 rounding of a double. */
export function shortestFloat16(v: number, round: Rounding): number {
  if (v === 0 || v !== v || v === Infinity || v === -Infinity) return v;
  searchShortest(abs(v), 5, round);
  const d = decimalToDouble(found.n, found.k);
  return v < 0 ? -d : d;
}
