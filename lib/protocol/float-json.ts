/**
 * JSON arrays of FP32 and FP16 tensor data, each element written as the shortest decimal that reads back
 * to it (shortest-float.ts), in the form JavaScript's Number#toString gives that decimal. NaN and the
 * infinities, which JSON cannot express, are null; -0 is written -0, so that it reads back as -0.
 *
 * The text is written as bytes and made a string once: V8's number-to-string costs several times the
 * digit search for a double it has not seen before, and every response's outputs are new.
 */
import { numbersFromHalfBits, roundToFloat16 } from './fp16';
import { found, searchShortest, shortestFloat32Decimal } from './shortest-float';

/** The longest element: '-', an integer of 21 digits (Number#toString's limit before exponents), ','. */
const MAX_ELEMENT_BYTES = 24;
const MAX_FLOAT16_DIGITS = 5;

const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NULL = Buffer.from('null');

const { floor } = Math;

function digitCount(n: number): number {
  if (n < 1e5) return n < 100 ? (n < 10 ? 1 : 2) : n < 1e3 ? 3 : n < 1e4 ? 4 : 5;
  return n < 1e7 ? (n < 1e6 ? 6 : 7) : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
}

/**
 * Writes the decimal digits of n ending just before `end`, with a point after the first `point` of them
 * when 0 < point < their count. n is below 10^10; below 2^31 (always, for floats of 9 digits) integer
 * division by a constant compiles to a multiplication.
 */
function writeDigits(out: Buffer, end: number, n: number, count: number, point: number): void {
  let q = end - 1;
  let j = count;
  if (n <= 0x7fffffff) {
    for (let x = n | 0; j > 0; j--) {
      if (j === point) out[q--] = DOT;
      const next = (x / 10) | 0;
      out[q--] = ZERO + x - next * 10;
      x = next;
    }
  } else {
    for (let x = n; j > 0; j--) {
      if (j === point) out[q--] = DOT;
      const next = floor(x / 10);
      out[q--] = ZERO + x - next * 10;
      x = next;
    }
  }
}

/** Writes n·10^k (n a positive integer below 10^10 without trailing zeros) as Number#toString would. Returns the new end. */
function writeDecimal(out: Buffer, p: number, n: number, k: number): number {
  const count = digitCount(n);
  // Where the decimal point falls, counted in digits from the first.
  const point = count + k;
  if (point > 0 && point <= 21) {
    if (count <= point) {
      writeDigits(out, p + count, n, count, 0);
      p += count;
      for (let j = count; j < point; j++) out[p++] = ZERO;
      return p;
    }
    writeDigits(out, p + count + 1, n, count, point);
    return p + count + 1;
  }
  if (point <= 0 && point > -6) {
    out[p++] = ZERO;
    out[p++] = DOT;
    for (let j = point; j < 0; j++) out[p++] = ZERO;
    writeDigits(out, p + count, n, count, 0);
    return p + count;
  }
  const mantissa = count > 1 ? count + 1 : 1;
  writeDigits(out, p + mantissa, n, count, count > 1 ? 1 : 0);
  p += mantissa;
  out[p++] = 0x65;
  let exponent = point - 1;
  out[p++] = exponent < 0 ? MINUS : 0x2b;
  if (exponent < 0) exponent = -exponent;
  if (exponent >= 100) out[p++] = ZERO + floor(exponent / 100);
  if (exponent >= 10) out[p++] = ZERO + (floor(exponent / 10) % 10);
  out[p++] = ZERO + (exponent % 10);
  return p;
}

function writeSpecial(out: Buffer, p: number, negative: boolean, zero: boolean): number {
  if (!zero) return p + NULL.copy(out, p);
  if (negative) out[p++] = MINUS;
  out[p++] = ZERO;
  return p;
}

export function float32Json(values: Float32Array): string {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const out = Buffer.allocUnsafe(2 + n * MAX_ELEMENT_BYTES);
  let p = 0;
  out[p++] = 0x5b;
  for (let i = 0; i < n; i++) {
    if (i > 0) out[p++] = COMMA;
    const b = bits[i];
    const negative = b >>> 31 === 1;
    if ((b & 0x7f800000) === 0x7f800000 || (b & 0x7fffffff) === 0) {
      p = writeSpecial(out, p, negative, (b & 0x7fffffff) === 0);
      continue;
    }
    const v = values[i];
    shortestFloat32Decimal(b, negative ? -v : v);
    if (negative) out[p++] = MINUS;
    p = writeDecimal(out, p, found.n, found.k);
  }
  out[p++] = 0x5d;
  return out.toString('latin1', 0, p);
}

export function float16Json(bits: Uint16Array): string {
  const values = numbersFromHalfBits(bits);
  const n = values.length;
  const out = Buffer.allocUnsafe(2 + n * MAX_ELEMENT_BYTES);
  let p = 0;
  out[p++] = 0x5b;
  for (let i = 0; i < n; i++) {
    if (i > 0) out[p++] = COMMA;
    const v = values[i];
    const negative = bits[i] >>> 15 === 1;
    if (v === 0 || !Number.isFinite(v)) {
      p = writeSpecial(out, p, negative, v === 0);
      continue;
    }
    searchShortest(negative ? -v : v, MAX_FLOAT16_DIGITS, roundToFloat16);
    if (negative) out[p++] = MINUS;
    p = writeDecimal(out, p, found.n, found.k);
  }
  out[p++] = 0x5d;
  return out.toString('latin1', 0, p);
}
