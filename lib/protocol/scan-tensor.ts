/**
 * Reads one input's `data` array straight from the request bytes into its typed array, flat or nested in
 * row-major order, checking it against the declared shape as it goes. Only data the general decoder
 * (decode.ts) would accept goes through: anything else throws UNUSUAL and that decoder reads the body.
 * Nesting must follow the shape exactly; the general decoder's looser forms (ragged rows that add up)
 * are left to it.
 */
import type { DatatypeInfo, TensorData } from './datatypes';
import { halfBitsFromNumbers } from './fp16';
import { JsonCursor, NumberMode, UNUSUAL } from './json-cursor';
import { allocateElements } from './tensor-fill';

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

const FLOAT32 = 0;
const DOUBLE = 1;
const INTEGER = 2;
const BIG_INTEGER = 3;
const BOOLEAN = 4;
const STRING = 5;

class TensorWriter {
  index = 0;
  private readonly kind: number;
  private readonly min: number | bigint;
  private readonly max: number | bigint;

  constructor(
    private readonly cursor: JsonCursor,
    readonly info: DatatypeInfo,
    readonly out: TensorData,
  ) {
    this.kind =
      info.datatype === 'FP32'
        ? FLOAT32
        : info.json === 'number'
          ? DOUBLE
          : info.json === 'integer'
            ? info.bigint
              ? BIG_INTEGER
              : INTEGER
            : info.json === 'boolean'
              ? BOOLEAN
              : STRING;
    this.min = info.min ?? 0;
    this.max = info.max ?? 0;
  }

  /** Reads the next element into its place; the general decoder's fillFromJson checks, value for value. */
  element(): void {
    const c = this.cursor;
    const i = this.index++;
    switch (this.kind) {
      case FLOAT32:
        (this.out as Float32Array)[i] = c.number(NumberMode.Float32);
        return;
      case DOUBLE:
        (this.out as Float64Array)[i] = c.number(NumberMode.Double);
        return;
      case INTEGER: {
        const v = c.number(NumberMode.Integer);
        if (v < (this.min as number) || v > (this.max as number)) throw UNUSUAL;
        (this.out as Int32Array)[i] = v;
        return;
      }
      case BIG_INTEGER: {
        const v = c.number(NumberMode.Integer);
        if (v < this.min || v > this.max) throw UNUSUAL;
        (this.out as BigInt64Array)[i] = BigInt(v);
        return;
      }
      case BOOLEAN:
        (this.out as Uint8Array)[i] = c.boolean() ? 1 : 0;
        return;
      default:
        (this.out as string[])[i] = c.string();
    }
  }
}

/** How FP elements are read: the float32 mode for FP32, exact doubles for FP16 (rounded later) and FP64. */
function floatModeOf(info: DatatypeInfo): NumberMode | undefined {
  if (info.datatype === 'FP32') return NumberMode.Float32;
  return info.json === 'number' ? NumberMode.Double : undefined;
}

/** Reads the contents of an array at `level` of the shape, its '[' already consumed, through its ']'. */
function rows(c: JsonCursor, shape: readonly number[], level: number, w: TensorWriter, mode: NumberMode | undefined): void {
  const dim = shape[level];
  if (dim === 0) {
    c.expect(CLOSE_BRACKET);
    return;
  }
  const leaf = level === shape.length - 1;
  if (leaf && mode !== undefined) {
    if (c.numbers(w.out as Float32Array | Float64Array, w.index, dim, mode) !== dim) throw UNUSUAL;
    w.index += dim;
    return;
  }
  for (let j = 0; ;) {
    if (leaf) {
      w.element();
    } else {
      c.expect(OPEN_BRACKET);
      rows(c, shape, level + 1, w, mode);
    }
    if (++j === dim) break;
    c.expect(COMMA);
  }
  c.expect(CLOSE_BRACKET);
}

/**
 * Reads `data` for a tensor of `shape` (already checked, holding `count` elements) at the cursor.
 * Flat data must hold exactly `count` elements; nested data must match the shape at every level.
 */
export function scanTensorData(c: JsonCursor, info: DatatypeInfo, shape: readonly number[], count: number): TensorData {
  // FP16 is read as doubles and rounded once at the end, as fillFromJson does.
  const fp16 = info.datatype === 'FP16';
  const w = new TensorWriter(c, info, fp16 ? new Float64Array(count) : allocateElements(info, count));
  const mode = floatModeOf(info);
  c.expect(OPEN_BRACKET);
  const first = c.peek();
  if (first === OPEN_BRACKET && shape.length >= 2) {
    rows(c, shape, 0, w, mode);
  } else if (first === CLOSE_BRACKET) {
    c.pos++;
    if (count !== 0) throw UNUSUAL;
  } else if (mode !== undefined) {
    if (c.numbers(w.out as Float32Array | Float64Array, 0, count, mode) !== count) throw UNUSUAL;
  } else {
    do {
      if (w.index === count) throw UNUSUAL;
      w.element();
    } while (c.more(CLOSE_BRACKET));
    if (w.index !== count) throw UNUSUAL;
  }
  return fp16 ? halfBitsFromNumbers(w.out as Float64Array) : w.out;
}
