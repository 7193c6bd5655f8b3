/**
 * Open Inference Protocol v2 datatypes and how each maps onto onnxruntime tensors and bytes.
 * This table is the single source of truth: codecs, validation and packaging all read it.
 */
import type { Tensor } from 'onnxruntime-common';

export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

/** What a tensor's data is held in while it travels through the engine. BYTES travel as strings. */
export type TensorData =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[];

export interface DatatypeInfo {
  readonly datatype: Datatype;
  /** onnxruntime's name for the element type. */
  readonly ort: Tensor.Type;
  /** Bytes per element on the wire; 0 for BYTES, whose elements carry their own length. */
  readonly size: number;
  /** True for 64-bit integers, which JSON carries as exact integers and the engine holds as BigInt. */
  readonly bigint: boolean;
  /** The kind of JSON value an element must be. */
  readonly json: 'boolean' | 'integer' | 'number' | 'string';
  /** Inclusive range for integer types, used to reject values that would silently wrap. */
  readonly min?: number | bigint;
  readonly max?: number | bigint;
  /** Allocates the typed array that holds `n` elements of this type (BYTES: a string array). */
  allocate(n: number): TensorData;
  /** A typed array of `n` elements over existing bytes, `byteOffset` a multiple of `size` (not for BYTES). */
  view(buffer: ArrayBufferLike, byteOffset: number, n: number): TensorData;
}

interface TypedArrayConstructor {
  new (length: number): Exclude<TensorData, string[]>;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Exclude<TensorData, string[]>;
}

function info(
  datatype: Datatype,
  ort: Tensor.Type,
  size: number,
  json: DatatypeInfo['json'],
  Typed: TypedArrayConstructor | undefined,
  min?: number | bigint,
  max?: number | bigint,
): DatatypeInfo {
  const allocate = Typed ? (n: number) => new Typed(n) : (n: number) => new Array<string>(n).fill('');
  const view = (buffer: ArrayBufferLike, byteOffset: number, n: number) => {
    if (!Typed) throw new TypeError(`${datatype} elements have no fixed size to view`);
    return new Typed(buffer, byteOffset, n);
  };
  return { datatype, ort, size, json, allocate, view, min, max, bigint: typeof min === 'bigint' };
}

export const DATATYPE_INFO: Readonly<Record<Datatype, DatatypeInfo>> = {
  BOOL: info('BOOL', 'bool', 1, 'boolean', Uint8Array),
  UINT8: info('UINT8', 'uint8', 1, 'integer', Uint8Array, 0, 0xff),
  UINT16: info('UINT16', 'uint16', 2, 'integer', Uint16Array, 0, 0xffff),
  UINT32: info('UINT32', 'uint32', 4, 'integer', Uint32Array, 0, 0xffffffff),
  UINT64: info('UINT64', 'uint64', 8, 'integer', BigUint64Array, 0n, 0xffffffffffffffffn),
  INT8: info('INT8', 'int8', 1, 'integer', Int8Array, -0x80, 0x7f),
  INT16: info('INT16', 'int16', 2, 'integer', Int16Array, -0x8000, 0x7fff),
  INT32: info('INT32', 'int32', 4, 'integer', Int32Array, -0x80000000, 0x7fffffff),
  INT64: info('INT64', 'int64', 8, 'integer', BigInt64Array, -0x8000000000000000n, 0x7fffffffffffffffn),
  // FP16 is held as raw IEEE half bits, which is what onnxruntime-node's float16 tensors take.
  FP16: info('FP16', 'float16', 2, 'number', Uint16Array),
  FP32: info('FP32', 'float32', 4, 'number', Float32Array),
  FP64: info('FP64', 'float64', 8, 'number', Float64Array),
  BYTES: info('BYTES', 'string', 0, 'string', undefined),
};

const BY_ORT = new Map<string, Datatype>(DATATYPES.map((d) => [DATATYPE_INFO[d].ort, d]));

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

/** Maps an onnxruntime element type name to its v2 datatype, or undefined when v2 has no equivalent. */
export function datatypeFromOrt(type: string): Datatype | undefined {
  return BY_ORT.get(type);
}

/** Number of elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
