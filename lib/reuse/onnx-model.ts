/**
 * An ONNX model read into plain data: its graph's inputs and outputs, its nodes with their attributes
 * decoded, and its initializers as typed arrays. The trainable view (trainable-view.ts) is built from
 * this, and writes trained weights back into the same decoded message, so everything else in the file
 * (names, attributes, metadata the schema knows) is kept as it was.
 */
import type * as protobuf from 'protobufjs';
import { ConversionError } from '../convert/errors';
import { ModelProto } from '../convert/onnx-schema';

export type AttributeValue = number | string | number[] | string[];

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Input names; '' marks an optional input left out. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, AttributeValue>;
}

export type InitializerData = Float32Array | Int32Array | BigInt64Array;

export interface OnnxInitializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: InitializerData;
}

export interface OnnxValueInfo {
  readonly name: string;
  /** ONNX TensorProto.DataType: 1 float, 6 int32, 7 int64. */
  readonly elemType: number;
  /** null where the dimension is symbolic (the batch, usually). */
  readonly dims: ReadonlyArray<number | null>;
}

export interface OnnxModel {
  readonly opset: number;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxInitializer>;
  /** The decoded message, for writing it back with new weights. */
  readonly message: protobuf.Message;
}

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;

interface TensorMessage {
  name: string;
  dims: Array<number | { toNumber(): number }>;
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Array<number | { toString(): string }>;
}

interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number | { toNumber(): number };
  s?: Uint8Array;
  ints?: Array<number | { toNumber(): number }>;
  floats?: number[];
  strings?: Uint8Array[];
}

interface NodeMessage {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeMessage[];
}

interface ValueInfoMessage {
  name: string;
  type?: {
    tensorType?: {
      elemType: number;
      shape?: { dim: Array<{ value?: 'dimValue' | 'dimParam'; dimValue?: number | { toNumber(): number } }> };
    };
  };
}

interface ModelMessage {
  graph: { node: NodeMessage[]; initializer: TensorMessage[]; input: ValueInfoMessage[]; output: ValueInfoMessage[] };
  opsetImport: Array<{ domain?: string; version: number | { toNumber(): number } }>;
}

const num = (v: number | { toNumber(): number } | undefined): number => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

function tensorData(t: TensorMessage, count: number): InitializerData {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const copy = (bytesPer: number) => {
    if (raw!.length !== count * bytesPer)
      throw new ConversionError(`initializer '${t.name}' holds ${raw!.length} bytes for ${count} values`);
    // A decoded Buffer may be a view into a shared pool: copy it into a buffer of its own.
    return new Uint8Array(raw!).buffer;
  };
  switch (t.dataType) {
    case FLOAT:
      return raw ? new Float32Array(copy(4)) : Float32Array.from(t.floatData ?? []);
    case INT32:
      return raw ? new Int32Array(copy(4)) : Int32Array.from(t.int32Data ?? []);
    case INT64:
      return raw ? new BigInt64Array(copy(8)) : BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(v.toString())));
    default:
      throw new ConversionError(`initializer '${t.name}' has ONNX data type ${t.dataType}; only float32, int32 and int64 are supported`);
  }
}

function attributeValue(a: AttributeMessage): AttributeValue {
  switch (a.type) {
    case 1:
      return a.f ?? 0;
    case 2:
      return num(a.i);
    case 3:
      return Buffer.from(a.s ?? new Uint8Array()).toString('utf8');
    case 6:
      return a.floats ?? [];
    case 7:
      return (a.ints ?? []).map(num);
    case 8:
      return (a.strings ?? []).map((s) => Buffer.from(s).toString('utf8'));
    default:
      throw new ConversionError(`attribute '${a.name}' has ONNX attribute type ${a.type}, which the trainable view does not read`);
  }
}

function valueInfo(v: ValueInfoMessage): OnnxValueInfo {
  const t = v.type?.tensorType;
  return {
    name: v.name,
    elemType: t?.elemType ?? 0,
    // protobufjs names the member of the oneof that is set; a symbolic (or unset) dimension is unknown.
    dims: (t?.shape?.dim ?? []).map((d) => (d.value === 'dimValue' ? num(d.dimValue) : null)),
  };
}

export function readOnnxModel(bytes: Uint8Array): OnnxModel {
  let message: protobuf.Message;
  try {
    message = ModelProto.decode(bytes);
  } catch (err) {
    throw new ConversionError(`not an ONNX model: ${(err as Error).message}`);
  }
  const m = message as unknown as ModelMessage;
  if (!m.graph) throw new ConversionError('the ONNX model has no graph');
  const defaultOpset = m.opsetImport.find((o) => !o.domain);
  const initializers = new Map<string, OnnxInitializer>();
  for (const t of m.graph.initializer) {
    const dims = t.dims.map(num);
    initializers.set(t.name, {
      name: t.name,
      dims,
      data: tensorData(
        t,
        dims.reduce((a, b) => a * b, 1),
      ),
    });
  }
  return {
    opset: num(defaultOpset?.version),
    inputs: m.graph.input.filter((v) => !initializers.has(v.name)).map(valueInfo),
    outputs: m.graph.output.map(valueInfo),
    nodes: m.graph.node.map((n, i) => ({
      name: n.name || `${n.opType}_${i}`,
      opType: n.opType,
      domain: n.domain ?? '',
      inputs: n.input,
      outputs: n.output,
      attributes: new Map(n.attribute.map((a) => [a.name, attributeValue(a)])),
    })),
    initializers,
    message,
  };
}

/** The model's bytes with the given float initializers replaced; every other byte of meaning is kept. */
export function writeOnnxModel(model: OnnxModel, replaced: ReadonlyMap<string, Float32Array>): Uint8Array {
  const m = model.message as unknown as ModelMessage;
  for (const t of m.graph.initializer) {
    const data = replaced.get(t.name);
    if (!data) continue;
    t.rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    t.floatData = [];
  }
  return ModelProto.encode(model.message).finish();
}
