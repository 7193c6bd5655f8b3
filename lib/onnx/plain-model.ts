/**
 * An ONNX model as a plain object (protobufjs's toObject of ModelProto), for edits that add and rewire
 * nodes and initializers of any datatype: reuse's graph surgery (lib/reuse/graph-surgery.ts) and
 * compression's rewrites (lib/compress). Longs are numbers; bytes are Buffers.
 */
import { ModelProto } from '../convert/onnx-schema';

/** ONNX TensorProto.DataType values the edits write. */
export const ONNX_TYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;

/** ONNX AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, FLOATS: 6, INTS: 7 } as const;

export interface PlainAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
  [k: string]: unknown;
}

export interface PlainNode {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: PlainAttribute[];
  [k: string]: unknown;
}

export interface PlainTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  [k: string]: unknown;
}

export interface PlainValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: Array<{ dimValue?: number; dimParam?: string }> } } };
}

export interface PlainModel {
  graph: {
    name?: string;
    node: PlainNode[];
    initializer: PlainTensor[];
    input: PlainValueInfo[];
    output: PlainValueInfo[];
    valueInfo?: PlainValueInfo[];
    [k: string]: unknown;
  };
  opsetImport: Array<{ domain?: string; version: number }>;
  [k: string]: unknown;
}

export function decodePlainModel(bytes: Uint8Array): PlainModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false, arrays: true }) as PlainModel;
}

export function encodePlainModel(model: PlainModel): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** The default-domain opset the model imports. */
export function defaultOpset(model: PlainModel): number {
  return model.opsetImport.find((o) => !o.domain)?.version ?? 0;
}

export function intAttribute(node: PlainNode, name: string, fallback: number): number {
  return node.attribute?.find((a) => a.name === name)?.i ?? fallback;
}

export function floatAttribute(node: PlainNode, name: string, fallback: number): number {
  return node.attribute?.find((a) => a.name === name)?.f ?? fallback;
}

export const intAttr = (name: string, i: number): PlainAttribute => ({ name, type: ATTRIBUTE_TYPE.INT, i });
export const intsAttr = (name: string, ints: number[]): PlainAttribute => ({ name, type: ATTRIBUTE_TYPE.INTS, ints });

/** The values of a float32 initializer, whether held as raw bytes or as float_data. */
export function floatValues(t: PlainTensor): Float32Array {
  if (t.dataType !== ONNX_TYPE.FLOAT) throw new Error(`initializer '${t.name}' is not float32`);
  if (t.rawData && t.rawData.length > 0) return new Float32Array(new Uint8Array(t.rawData).buffer);
  return Float32Array.from(t.floatData ?? []);
}

/** An initializer holding `data` as raw little-endian bytes. */
export function rawTensor(
  name: string,
  dims: readonly number[],
  dataType: number,
  data: Float32Array | Int8Array | Uint8Array | Int32Array | Uint16Array | BigInt64Array,
): PlainTensor {
  return {
    name,
    dims: [...dims],
    dataType,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

export const elementCount = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
