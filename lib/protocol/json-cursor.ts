/**
 * A cursor over the bytes of ordinary JSON, for the request scanner (scan-request.ts). It reads JSON as
 * clients write it and gives up on anything else by throwing UNUSUAL: the scanner then hands the whole
 * body to the general parser, which accepts or refuses it with its own message. So the cursor never has
 * to be right about an error, only about what it accepts, which must be exactly what JSON.parse accepts
 * and read to exactly the values JSON.parse gives.
 */

/** Thrown, never shown: it means "the general parser decides". One instance, so throwing it costs no stack trace. */
class Unusual extends Error {}
export const UNUSUAL = new Unusual('not ordinary JSON; the general parser decides');

// A module-scope alias: a global look-up per call is slow where code runs in a vm context (jest, REPLs).
const { fround } = Math;

/** 10^i for i in 0..22: exactly representable, so one multiplication or division by it is correctly rounded. */
const EXACT_POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * How far an approximated value may be from the double JSON.parse gives, relative to it: mantissas of up to
 * 40 digits accumulate at most 40 roundings of 2^-53 each, and the scaling adds three more. 2^-44 leaves a
 * margin of over ten.
 */
const APPROXIMATION_GUARD = 2 ** -44;
const MAX_APPROXIMATED_DIGITS = 40;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** How deep a value the cursor skips: deeper ones go to the general parser. */
const MAX_SKIP_DEPTH = 64;

/** How JsonCursor.number reads a value (plain constants: a const enum does not survive isolated modules). */
export const NumberMode = {
  /** The exact double JSON.parse gives. */
  Double: 0,
  /** A double that rounds to the same float32 as the one JSON.parse gives: all an FP32 tensor keeps. */
  Float32: 1,
  /** A plain integer token of at most 15 digits (exact); anything else is unusual. */
  Integer: 2,
} as const;
export type NumberMode = (typeof NumberMode)[keyof typeof NumberMode];

const isDigit = (c: number) => c >= ZERO && c <= NINE;

export class JsonCursor {
  pos = 0;
  private readonly end: number;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.end = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Skips JSON's four whitespace bytes and returns the next byte, or -1 at the end. */
  peek(): number {
    const b = this.bytes;
    const n = this.end;
    let p = this.pos;
    while (p < n) {
      const c = b[p];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.pos = p;
        return c;
      }
      p++;
    }
    this.pos = p;
    return -1;
  }

  expect(c: number): void {
    if (this.peek() !== c) throw UNUSUAL;
    this.pos++;
  }

  /** Opens an object or array; returns false when it is empty (and consumes its close). */
  open(open: number, close: number): boolean {
    this.expect(open);
    if (this.peek() !== close) return true;
    this.pos++;
    return false;
  }

  /** After a member or element: true at a comma, false at the close; both are consumed. */
  more(close: number): boolean {
    const c = this.peek();
    this.pos++;
    if (c === COMMA) return true;
    if (c === close) return false;
    throw UNUSUAL;
  }

  /** True when only whitespace is left. */
  atEnd(): boolean {
    return this.peek() === -1;
  }

  /**
   * Scans a string without escapes; returns [start, end) of its bytes, which are valid UTF-8 text
   * (checked when not ASCII). The caller decides whether to build a JS string.
   */
  stringBytes(): number {
    if (this.peek() !== QUOTE) throw UNUSUAL;
    const b = this.bytes;
    const n = this.end;
    const start = this.pos + 1;
    let p = start;
    let ascii = true;
    for (;;) {
      if (p >= n) throw UNUSUAL;
      const c = b[p];
      if (c === QUOTE) break;
      // JSON forbids raw control characters in strings; escapes are the general parser's to read.
      if (c < 0x20 || c === BACKSLASH) throw UNUSUAL;
      if (c >= 0x80) ascii = false;
      p++;
    }
    this.pos = p + 1;
    if (!ascii && utf8(b, start, p).includes('\uFFFD')) throw UNUSUAL;
    return start;
  }

  /** A string value, decoded. */
  string(): string {
    const start = this.stringBytes();
    return utf8(this.bytes, start, this.pos - 1);
  }

  /** Whether the string just scanned (from `start`) holds exactly `expected`. */
  scannedEquals(start: number, expected: Uint8Array): boolean {
    const len = this.pos - 1 - start;
    if (len !== expected.length) return false;
    const b = this.bytes;
    for (let i = 0; i < len; i++) if (b[start + i] !== expected[i]) return false;
    return true;
  }

  /** An object member's name, then its colon: returns the index of the name in `known`, or -1. */
  key(known: readonly Uint8Array[]): number {
    const start = this.stringBytes();
    let found = -1;
    for (let i = 0; i < known.length; i++) {
      if (this.scannedEquals(start, known[i])) {
        found = i;
        break;
      }
    }
    this.expect(COLON);
    return found;
  }

  boolean(): boolean {
    const c = this.peek();
    if (c === 0x74 && this.literal('true')) return true;
    if (c === 0x66 && this.literal('false')) return false;
    throw UNUSUAL;
  }

  private literal(word: string): boolean {
    const b = this.bytes;
    const p = this.pos;
    if (p + word.length > this.end) return false;
    for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
    this.pos = p + word.length;
    return true;
  }

  /** Skips any JSON value, checking it as JSON.parse would. */
  skip(depth = 0): void {
    const c = this.peek();
    if (c === QUOTE) {
      this.stringBytes();
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth >= MAX_SKIP_DEPTH) throw UNUSUAL;
      const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
      if (!this.open(c, close)) return;
      do {
        if (c === OPEN_BRACE) {
          this.stringBytes();
          this.expect(COLON);
        }
        this.skip(depth + 1);
      } while (this.more(close));
    } else if (c === MINUS || isDigit(c)) {
      this.number(NumberMode.Double);
    } else if (!(c === 0x74 && this.literal('true')) && !(c === 0x66 && this.literal('false')) && !(c === 0x6e && this.literal('null'))) {
      throw UNUSUAL;
    }
  }

  /**
   * Reads a number token (JSON's grammar exactly: no leading zeros, no '+', no bare '.') and returns its
   * value as `mode` says. Up to 15 digits with a power of ten of at most 22 is Clinger's fast path: both
   * operands are exact, so one correctly rounded operation gives JSON.parse's double. Longer FP32 mantissas
   * are approximated and kept only when the whole error interval rounds to one float32; everything else
   * is parsed by Number, which JSON.parse matches.
   */
  number(mode: NumberMode): number {
    const b = this.bytes;
    const n = this.end;
    let p = this.pos;
    let c = p < n ? b[p] : -1;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++p < n ? b[p] : -1;
    const start = p;
    const negative = c === MINUS;
    if (negative) c = ++p < n ? b[p] : -1;
    // Digits gather nine at a time in a small integer, which is cheaper than a double per digit.
    let high = 0;
    let low = 0;
    let lowDigits = 0;
    let digits = 0;
    let k = 0;
    if (c === ZERO) {
      c = ++p < n ? b[p] : -1;
      if (c >= ZERO && c <= NINE) throw UNUSUAL;
    } else if (c > ZERO && c <= NINE) {
      const from = p;
      do {
        low = low * 10 + (c - ZERO);
        if (++lowDigits === 9) {
          high = high * 1e9 + low;
          low = 0;
          lowDigits = 0;
        }
        c = ++p < n ? b[p] : -1;
      } while (c >= ZERO && c <= NINE);
      digits = p - from;
    } else {
      throw UNUSUAL;
    }
    let integer = true;
    if (c === DOT) {
      integer = false;
      c = ++p < n ? b[p] : -1;
      if (!(c >= ZERO && c <= NINE)) throw UNUSUAL;
      // Leading zeros of a fraction only move the decimal point.
      if (digits === 0) {
        while (c === ZERO) {
          k--;
          c = ++p < n ? b[p] : -1;
        }
      }
      // Counted from the positions after the loops: the loops do only what each digit needs.
      const from = p;
      // Four digits at a time while four are there (fractions are where the long runs are): a word of
      // four ASCII digits checked and converted with a few operations instead of four of everything.
      const view = this.view;
      while (p + 4 <= n) {
        const v = view.getUint32(p, true);
        if ((v & 0xf0f0f0f0) !== 0x30303030 || ((v + 0x06060606) & 0xf0f0f0f0) !== 0x30303030) break;
        const x = ((v - 0x30303030) * 10 + ((v - 0x30303030) >>> 8)) & 0x00ff00ff;
        if (lowDigits > 5) {
          high = high * EXACT_POW10[lowDigits] + low;
          low = 0;
          lowDigits = 0;
        }
        low = low * 10000 + (x & 0xff) * 100 + (x >>> 16);
        lowDigits += 4;
        p += 4;
      }
      c = p < n ? b[p] : -1;
      while (c >= ZERO && c <= NINE) {
        if (lowDigits === 9) {
          high = high * 1e9 + low;
          low = 0;
          lowDigits = 0;
        }
        low = low * 10 + (c - ZERO);
        lowDigits++;
        c = ++p < n ? b[p] : -1;
      }
      digits += p - from;
      k -= p - from;
    }
    if (c === 0x65 || c === 0x45) {
      integer = false;
      c = ++p < n ? b[p] : -1;
      let sign = 1;
      if (c === PLUS || c === MINUS) {
        if (c === MINUS) sign = -1;
        c = ++p < n ? b[p] : -1;
      }
      if (!(c >= ZERO && c <= NINE)) throw UNUSUAL;
      let e = 0;
      do {
        // Past a million the value is 0 or Infinity whatever the digits: stop before e loses precision.
        if (e < 1e6) e = e * 10 + (c - ZERO);
        c = ++p < n ? b[p] : -1;
      } while (c >= ZERO && c <= NINE);
      k += sign * e;
    }
    this.pos = p;

    if (mode === NumberMode.Integer && (!integer || digits > 15)) throw UNUSUAL;
    // Exact while digits <= 15: high * 10^lowDigits then stays below 10^15.
    const m = high === 0 ? low : high * EXACT_POW10[lowDigits] + low;
    if (m === 0) return negative ? -0 : 0;
    if (digits <= 15 && k >= -22 && k <= 22) {
      const v = k >= 0 ? m * EXACT_POW10[k] : m / EXACT_POW10[-k];
      return negative ? -v : v;
    }
    if (mode === NumberMode.Float32 && digits <= MAX_APPROXIMATED_DIGITS && k >= -44 && k <= 44) {
      const v = approximate(m, k);
      const margin = v * APPROXIMATION_GUARD;
      if (fround(v - margin) === fround(v + margin)) return negative ? -v : v;
    }
    return Number(latin1(b, start, p));
  }

  /**
   * Reads the number elements of an array, from the cursor through its ']', into out[from...]; more
   * than `limit` of them is unusual. Returns how many there were. The loop of every FP tensor.
   */
  numbers(out: Float32Array | Float64Array, from: number, limit: number, mode: NumberMode): number {
    const b = this.bytes;
    const n = this.end;
    const end = from + limit;
    let i = from;
    for (;;) {
      if (i === end) throw UNUSUAL;
      const p = this.pos;
      // A bare 0 is the commonest element of sparse data (images, masks, padding): nothing to parse.
      if (p + 1 < n && b[p] === ZERO && b[p + 1] === COMMA) {
        out[i++] = 0;
        this.pos = p + 2;
        continue;
      }
      out[i++] = this.number(mode);
      const q = this.pos;
      if (q < n && b[q] === COMMA) {
        this.pos = q + 1;
      } else if (!this.more(CLOSE_BRACKET)) {
        return i - from;
      }
    }
  }
}

/** m·10^k in at most three correctly rounded steps (|k| <= 44), for values checked against APPROXIMATION_GUARD. */
function approximate(m: number, k: number): number {
  if (k >= 0) return k <= 22 ? m * EXACT_POW10[k] : m * EXACT_POW10[22] * EXACT_POW10[k - 22];
  return k >= -22 ? m / EXACT_POW10[-k] : m / EXACT_POW10[22] / EXACT_POW10[-k - 22];
}

function utf8(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/** Whether the bytes hold a run of `length` digits or more: the only way JSON text can spell an integer past 2^53. */
export function hasDigitRun(bytes: Uint8Array, length: number): boolean {
  let run = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c >= ZERO && c <= NINE) {
      if (++run >= length) return true;
    } else {
      run = 0;
    }
  }
  return false;
}
