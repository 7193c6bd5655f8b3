import { jsonData } from '../../lib/protocol/encode';
import { float16Json, float32Json } from '../../lib/protocol/float-json';
import { halfBitsFromNumbers, numbersFromHalfBits } from '../../lib/protocol/fp16';
import { shortestFloat32 } from '../../lib/protocol/shortest-float';
import { SeededRandom } from '../../lib/package/seeded-random';

// Aliases keep the million-element loops clear of global look-ups, which are slow in jest's vm context.
const { fround, imul } = Math;
const same = Object.is;

/** Fills `out` with seeded random uint32s (mulberry32, as SeededRandom, without the division to a float). */
function fillBits(out: Uint32Array, state: { seed: number }): void {
  let s = state.seed;
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = imul(s ^ (s >>> 15), s | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 0;
  }
  state.seed = s;
}

function float32FromBits(bits: Uint32Array): Float32Array {
  return new Float32Array(bits.buffer, bits.byteOffset, bits.length);
}

/** Significant digits of a JSON number token. */
function significantDigits(token: string): number {
  const mantissa = token.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length || 1;
}

/** The brief's reference: the first of v.toPrecision(1..max) that reads back. */
function referenceShortest(v: number, max: number, readsBack: (x: number) => boolean): string {
  for (let p = 1; p <= max; p++) {
    const s = v.toPrecision(p);
    if (readsBack(Number(s))) return s;
  }
  throw new Error(`no decimal of ${max} digits reads back to ${v}`);
}

/** Splits a JSON array's text into its tokens, so that each can be checked as text as well as by value. */
const tokensOf = (json: string) => json.slice(1, -1).split(',');

/**
 * Checks every element of one FP32 batch: valid JSON, and each value (or null) reads back to the same
 * float32 bits. With `normalForm`, also that each token is Number#toString's form of its value (no stray
 * zeros or exponents): slower, so not on every batch.
 */
function expectFloat32RoundTrip(values: Float32Array, normalForm: boolean): void {
  const json = float32Json(values);
  const parsed = JSON.parse(json) as (number | null)[];
  expect(parsed).toHaveLength(values.length);
  const tokens = normalForm ? tokensOf(json) : [];
  let failures = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const p = parsed[i];
    let ok = v === v && v !== Infinity && v !== -Infinity ? p !== null && same(fround(p), v) : p === null;
    if (ok && normalForm && p !== null) ok = String(p) === tokens[i].replace(/^-0$/, '0');
    if (!ok && failures++ < 5) expect({ value: v, written: p }).toBe('read back to the same float32');
  }
  expect(failures).toBe(0);
}

describe('FP32 JSON: the shortest decimal that reads back', () => {
  test('4 million random bit patterns read back exactly, NaN and infinities as null', () => {
    const state = { seed: 20260501 };
    const bits = new Uint32Array(1 << 16);
    for (let batch = 0; batch < 64; batch++) {
      fillBits(bits, state);
      expectFloat32RoundTrip(float32FromBits(bits), batch === 0);
    }
  });

  test('edge patterns: subnormals, ±0, the largest and smallest normals, powers of two and their neighbours, integers', () => {
    const edges: number[] = [
      0, 0x80000000, 1, 2, 3, 0x007fffff, 0x00800000, 0x00800001, 0x7f7fffff, 0x7f7ffffe, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
    ];
    // Each binade's first float, where the float below is half as far: the interval around it is lopsided.
    for (let e = 0; e < 255; e++) for (const m of [0, 1, 0x7fffff]) edges.push(((e << 23) | m) >>> 0, (0x80000000 | (e << 23) | m) >>> 0);
    const values = Array.from(float32FromBits(Uint32Array.from(edges)));
    // Integers up to 2^24 are exact in float32 and must come out as integers.
    const random = new SeededRandom(7);
    for (let i = 0; i < 20000; i++) values.push(random.int(2 ** 24), -random.int(2 ** 24), 2 ** 24 + 2 * random.int(2 ** 20));
    for (let i = 0; i < 20000; i++) values.push(Math.fround(random.uniform(1e-45, 1.2e-38)));
    const floats = Float32Array.from(values);
    expectFloat32RoundTrip(floats, true);
    const tokens = tokensOf(float32Json(floats));
    for (let i = 0; i < floats.length; i++) {
      if (Number.isInteger(floats[i]) && Math.abs(floats[i]) <= 2 ** 24)
        expect(tokens[i]).toBe(Object.is(floats[i], -0) ? '-0' : String(floats[i]));
    }
  });

  test('no longer than the first toPrecision(1..9) that reads back, on 200,000 random patterns', () => {
    const bits = new Uint32Array(200000);
    fillBits(bits, { seed: 99 });
    const values = float32FromBits(bits);
    const tokens = tokensOf(float32Json(values));
    let longer = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v) || v === 0) continue;
      const reference = referenceShortest(v, 9, (x) => fround(x) === v);
      if (significantDigits(tokens[i]) > significantDigits(reference) && longer++ < 5) {
        expect({ value: v, written: tokens[i] }).toBe(`no longer than ${reference}`);
      }
    }
    expect(longer).toBe(0);
  });

  test('the example of the issue, -0, and the shortest double for a single value', () => {
    const v = Math.fround(0.0001540805387776345);
    expect(float32Json(Float32Array.of(v, -0, 0, NaN, -Infinity, 1e-7, -2.5, 1e21))).toBe('[0.00015408054,-0,0,null,null,1e-7,-2.5,1e+21]');
    expect(Object.is(Math.fround((JSON.parse(float32Json(Float32Array.of(-0))) as number[])[0]), -0)).toBe(true);
    expect(shortestFloat32(v)).toBe(0.00015408054);
    expect(Math.fround(shortestFloat32(v))).toBe(v);
  });

  test('jsonData writes FP32 shortest; FP64 and integers are written as before', () => {
    const f32 = Float32Array.of(0.1, 1 / 3);
    expect(jsonData({ datatype: 'FP32', data: f32 })).toBe('[0.1,0.33333334]');
    expect(jsonData({ datatype: 'FP64', data: Float64Array.of(0.1 + 0.2, -0, 1 / 3) })).toBe('[0.30000000000000004,0,0.3333333333333333]');
    expect(jsonData({ datatype: 'INT32', data: Int32Array.of(-1, 2147483647) })).toBe('[-1,2147483647]');
    expect(jsonData({ datatype: 'UINT64', data: BigUint64Array.of(18446744073709551615n) })).toBe('[18446744073709551615]');
  });
});

describe('FP16 JSON: the shortest decimal that reads back', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const tokens = tokensOf(float16Json(all));
  const parsed = JSON.parse(float16Json(all)) as (number | null)[];

  test('every one of the 65,536 bit patterns reads back to its bits; NaN and infinities are null', () => {
    let failures = 0;
    for (let i = 0; i < all.length; i++) {
      const exponent = (i >> 10) & 0x1f;
      const p = parsed[i];
      const ok = exponent === 0x1f ? p === null : p !== null && halfBitsFromNumbers([p])[0] === i;
      if (!ok && failures++ < 5) expect({ bits: i, written: tokens[i] }).toBe('read back to the same bits');
    }
    expect(failures).toBe(0);
    expect(tokens[0x8000]).toBe('-0');
    expect(tokens[0x3c00]).toBe('1');
    expect(tokens[0x7bff]).toBe('65500');
    expect(tokens[0x0001]).toBe('6e-8');
  });

  test('no longer than the first toPrecision(1..5) that reads back, for every finite pattern', () => {
    const values = numbersFromHalfBits(all);
    let longer = 0;
    for (let i = 0; i < all.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v) || v === 0) continue;
      const reference = referenceShortest(v, 5, (x) => halfBitsFromNumbers([x])[0] === i);
      if (significantDigits(tokens[i]) > significantDigits(reference) && longer++ < 5) {
        expect({ bits: i, written: tokens[i] }).toBe(`no longer than ${reference}`);
      }
    }
    expect(longer).toBe(0);
  });
});
