/**
 * Builds ONNX models from a plain description: the converter uses it for real models, and tests use
 * it for fixture models of every datatype. Output is deterministic: the same spec gives the same bytes.
 */
import type { Datatype } from '../protocol/datatypes';
import { ModelProto } from './onnx-schema';

/** ONNX TensorProto.DataType codes, keyed by v2 datatype. */
export const ONNX_ELEM_TYPE: Readonly<Record<Datatype, number>> = {
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BYTES: 8,
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
};

export interface ValueSpec {
  readonly name: string;
  readonly datatype: Datatype;
  /** A number is a fixed dimension; a string is a symbolic (dynamic) one, such as 'batch'. */
  readonly shape: ReadonlyArray<number | string>;
}

export type AttributeValue =
  number | number[] | string | { ints: number[] } | { floats: number[] } | { strings: string[] } | { int: number } | { float: number };

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly name?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface InitializerSpec {
  readonly name: string;
  readonly dims: number[];
  readonly data: Float32Array | BigInt64Array | Int32Array;
}

export interface GraphSpec {
  readonly name: string;
  readonly inputs: ValueSpec[];
  readonly outputs: ValueSpec[];
  readonly nodes: NodeSpec[];
  readonly initializers?: InitializerSpec[];
  /** @default 13 */
  readonly opset?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
}

/** The IR version that goes with opsets 13-15 (onnx/docs/Versioning.md). */
const IR_VERSION = 8;

function valueInfo(v: ValueSpec) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_ELEM_TYPE[v.datatype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function attribute(name: string, value: AttributeValue) {
  if (typeof value === 'string') return { name, type: ATTR.STRING, s: Buffer.from(value, 'utf8') };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: ATTR.INT, i: value } : { name, type: ATTR.FLOAT, f: value };
  }
  if (Array.isArray(value)) return { name, type: ATTR.INTS, ints: value };
  if ('ints' in value) return { name, type: ATTR.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: ATTR.FLOATS, floats: value.floats };
  if ('strings' in value) return { name, type: ATTR.STRINGS, strings: value.strings.map((s) => Buffer.from(s, 'utf8')) };
  if ('int' in value) return { name, type: ATTR.INT, i: value.int };
  return { name, type: ATTR.FLOAT, f: value.float };
}

function initializer(t: InitializerSpec) {
  const dataType = t.data instanceof Float32Array ? 1 : t.data instanceof BigInt64Array ? 7 : 6;
  // raw_data is little-endian by the ONNX spec; every platform Node supports is little-endian.
  return { name: t.name, dims: t.dims, dataType, rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

/** Serializes a graph description into ONNX ModelProto bytes. */
export function encodeOnnxModel(spec: GraphSpec): Uint8Array {
  const message = ModelProto.fromObject({
    irVersion: IR_VERSION,
    producerName: spec.producerName ?? 'modelship',
    producerVersion: spec.producerVersion ?? '',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: spec.name,
      node: spec.nodes.map((n, i) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.opType}_${i}`,
        opType: n.opType,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: (spec.initializers ?? []).map(initializer),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
  });
  return ModelProto.encode(message).finish();
}
