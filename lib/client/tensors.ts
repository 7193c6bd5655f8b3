/**
 * Turning what a caller has (typed arrays, plain arrays, a v2 request body) into the checked tensors the
 * protocol codec encodes, and tensors back into v2 JSON for printing. Element checks and conversions
 * (ranges, FP16 half bits, BOOL) are the server's own (lib/protocol/decode), so both ends agree.
 */
import { DATATYPE_INFO, isDatatype, type Datatype, type TensorData } from '../protocol/datatypes';
import { fillFromJson } from '../protocol/decode';
import { jsonData } from '../protocol/encode';
import { parseJson } from '../protocol/json';
import type { Tensor } from '../protocol/types';

/** Elements as a typed array (used as they are), or a plain array (converted and range-checked). */
export type TensorValues = TensorData | readonly number[] | readonly bigint[] | readonly boolean[];

/** One named input: its elements in row-major order, its shape, and its datatype. */
export interface TensorInput {
  readonly data: TensorValues;
  readonly shape: readonly number[];
  /** @default - from the typed array: Float32Array is FP32, Int32Array INT32, BigInt64Array INT64, string[] BYTES... Plain number arrays need it. */
  readonly datatype?: Datatype;
}

/** Inputs as tensors, or as a record from input name to {@link TensorInput}. */
export type InferInputs = readonly Tensor[] | Readonly<Record<string, TensorInput>>;

/** The datatype a typed array holds when the caller does not say; Uint8Array is UINT8 (BOOL must be named), Uint16Array UINT16 (FP16 must be named). */
function naturalDatatype(data: TensorValues): Datatype | undefined {
  if (data instanceof Float32Array) return 'FP32';
  if (data instanceof Float64Array) return 'FP64';
  if (data instanceof Int8Array) return 'INT8';
  if (data instanceof Int16Array) return 'INT16';
  if (data instanceof Int32Array) return 'INT32';
  if (data instanceof BigInt64Array) return 'INT64';
  if (data instanceof Uint8Array) return 'UINT8';
  if (data instanceof Uint16Array) return 'UINT16';
  if (data instanceof Uint32Array) return 'UINT32';
  if (data instanceof BigUint64Array) return 'UINT64';
  return undefined;
}

/** Typed arrays that already hold a datatype's wire form: its natural one, plus BOOL as bytes and FP16 as half bits. */
function holds(data: TensorValues, datatype: Datatype): boolean {
  if (datatype === 'BOOL') return data instanceof Uint8Array;
  if (datatype === 'FP16') return data instanceof Uint16Array;
  return naturalDatatype(data) === datatype;
}

/** Array.isArray would narrow a readonly number[] to any[]; this keeps the element type. */
function isShape(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
}

function toTensor(name: string, input: TensorInput): Tensor {
  const { shape } = input;
  if (!isShape(shape)) throw new TypeError(`input '${name}': shape must be an array of non-negative integers`);
  const isStrings = Array.isArray(input.data) && input.data.length > 0 && typeof input.data[0] === 'string';
  const datatype = input.datatype ?? (isStrings ? 'BYTES' : naturalDatatype(input.data));
  if (datatype === undefined) throw new TypeError(`input '${name}': a plain array needs a datatype (FP32, INT64, BOOL...)`);
  if (!isDatatype(datatype)) throw new TypeError(`input '${name}': ${String(datatype)} is not a v2 datatype`);
  const count = shape.reduce((n, d) => n * d, 1);
  if (input.data.length !== count) {
    throw new RangeError(`input '${name}': shape [${shape.join(',')}] needs ${count} elements but data has ${input.data.length}`);
  }
  let data: TensorData;
  if (ArrayBuffer.isView(input.data)) {
    if (!holds(input.data, datatype)) {
      throw new TypeError(
        `input '${name}': a ${input.data.constructor.name} cannot carry ${datatype}; pass a plain array or the matching typed array`,
      );
    }
    data = input.data;
  } else {
    try {
      data = fillFromJson(name, DATATYPE_INFO[datatype], input.data);
    } catch (err) {
      throw new RangeError((err as Error).message);
    }
  }
  return { name, datatype, shape: [...shape], data };
}

/** Checks and normalizes inputs: a tensor list is checked as it is; a record becomes tensors in key order. */
export function toTensors(inputs: InferInputs): Tensor[] {
  if (Array.isArray(inputs)) return (inputs as readonly Tensor[]).map((t) => toTensor(t.name, t));
  return Object.entries(inputs as Readonly<Record<string, TensorInput>>).map(([name, input]) => toTensor(name, input));
}

/** A v2 infer request body read back into tensors, with its id and requested output names. */
export interface ParsedRequest {
  readonly id?: string;
  readonly inputs: Tensor[];
  readonly outputs?: string[];
}

function flatten(data: unknown[], out: unknown[] = []): unknown[] {
  for (const v of data) {
    if (Array.isArray(v)) flatten(v, out);
    else out.push(v);
  }
  return out;
}

/** Parses a v2 infer request body (JSON data, flat or nested) into tensors; `source` names it in errors. */
export function parseRequestBody(text: string, source = 'request body'): ParsedRequest {
  const body = parseJson(text, source) as { id?: unknown; inputs?: unknown; outputs?: unknown } | null;
  if (typeof body !== 'object' || body === null || !Array.isArray(body.inputs)) {
    throw new TypeError(`${source} is not a v2 infer request: it needs an "inputs" array`);
  }
  const inputs = body.inputs.map((raw: unknown, i: number): Tensor => {
    const w = raw as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown };
    if (typeof w?.name !== 'string') throw new TypeError(`${source}: inputs[${i}].name must be a string`);
    if (!isDatatype(w.datatype)) throw new TypeError(`${source}: input '${w.name}' has no valid datatype`);
    if (!Array.isArray(w.data)) throw new TypeError(`${source}: input '${w.name}' needs a data array`);
    return toTensor(w.name, { data: flatten(w.data) as number[], shape: w.shape as number[], datatype: w.datatype });
  });
  const outputs = Array.isArray(body.outputs) ? body.outputs.map((o) => String((o as { name?: unknown })?.name)) : undefined;
  return { ...(typeof body.id === 'string' ? { id: body.id } : {}), inputs, ...(outputs ? { outputs } : {}) };
}

/** A tensor as v2 JSON ({name, datatype, shape, data}); 64-bit integers stay exact. */
export function tensorToJson(t: Tensor): { name: string; datatype: Datatype; shape: number[]; data: unknown } {
  return { name: t.name, datatype: t.datatype, shape: [...t.shape], data: parseJson(jsonData(t), 'tensor') };
}
