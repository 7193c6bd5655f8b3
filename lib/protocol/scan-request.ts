/**
 * The fast path of decodeInferRequest: reads an ordinary JSON infer request from its bytes in one pass,
 * without building a JS value of the body, and checks it against the signature as it goes. Tensor data
 * lands in typed arrays directly (scan-tensor.ts).
 *
 * It accepts only requests the general decoder (decode.ts) accepts, and decodes them to the same
 * request. Anything else (a request in error, escapes in strings, whitespace JSON does not allow,
 * integers of 16 digits or more where a 64-bit input needs them exact, data nested other than as the
 * shape says, keys given twice, an input's data before its name, datatype and shape) makes it answer
 * undefined, and the general decoder reads the body and gives the answer, or the error, it always gave.
 * test/protocol/decode-differential.test.ts holds the two to that.
 */
import { DATATYPE_INFO, type DatatypeInfo, type TensorData } from './datatypes';
import { isSageMakerBinary } from './content-type';
import { hasDigitRun, JsonCursor, NumberMode, UNUSUAL } from './json-cursor';
import type { TensorLimits } from './limits';
import { scanTensorData } from './scan-tensor';
import { fillFromBinary } from './tensor-fill';
import type { InferRequest, ModelSignature, RequestedOutput, Tensor, TensorMetadata } from './types';

const bytesOf = (s: string) => Buffer.from(s, 'utf8');

const REQUEST_KEYS = ['id', 'parameters', 'inputs', 'outputs'].map(bytesOf);
const [ID, PARAMETERS, INPUTS, OUTPUTS] = [0, 1, 2, 3];
const REQUEST_PARAMETER_KEYS = [bytesOf('binary_data_output')];
const INPUT_KEYS = ['name', 'datatype', 'shape', 'data', 'parameters'].map(bytesOf);
const [NAME, DATATYPE, SHAPE, DATA, INPUT_PARAMETERS] = [0, 1, 2, 3, 4];
const INPUT_PARAMETER_KEYS = [bytesOf('binary_data_size')];
const OUTPUT_KEYS = ['name', 'parameters'].map(bytesOf);
const OUTPUT_PARAMETER_KEYS = [bytesOf('binary_data')];

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The shortest digit run that can spell an integer past 2^53 (9007199254740993 has 16 digits). */
const EXACT_INTEGER_DIGITS = 16;

interface ScanInput {
  readonly spec: TensorMetadata;
  readonly info: DatatypeInfo;
  readonly name: Uint8Array;
  readonly datatype: Uint8Array;
}

interface ScanIndex {
  readonly inputs: readonly ScanInput[];
  readonly outputNames: readonly Uint8Array[];
  readonly exactIntegers: boolean;
  /** The last all-binary request header this signature decoded (see HeaderMemo). */
  memo?: HeaderMemo;
}

/** Where one input's binary data sits, and what it is, as a request header declared it. */
interface BinaryInputPlan {
  readonly spec: ScanInput;
  readonly shape: readonly number[];
  readonly count: number;
  readonly size: number;
}

/**
 * A request header whose inputs all come as binary data, kept with what it decoded to. A client that sends
 * the same shapes sends the same header bytes every time, and the same bytes decode to the same request,
 * apart from the tensor data. Measured on the binary path at batch 1 (bench/p1-overhead.ts), decoding the
 * header again was 3 of the 7 µs modelship adds to onnxruntime's run.
 */
interface HeaderMemo {
  readonly header: Uint8Array;
  readonly limits: TensorLimits;
  readonly id: string | undefined;
  readonly inputs: readonly BinaryInputPlan[];
  readonly outputs: readonly RequestedOutput[];
}

// Buffer.compare is a memcmp: 90 ns for a 144-byte header, where a JS loop bounded by byteLength took 2 µs.
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;

/** The request a memoized header gives with this body's binary section; undefined where that section does not fit it. */
function fromMemo(
  memo: HeaderMemo,
  binary: BinarySection,
  headers: Readonly<Record<string, string | undefined>>,
): InferRequest | undefined {
  let offset = 0;
  const inputs: Tensor[] = [];
  for (const p of memo.inputs) {
    if (offset + p.size > binary.bytes.byteLength) return undefined;
    const data = fillFromBinary(p.spec.spec.name, p.spec.info, binary.bytes.subarray(offset, offset + p.size), p.count);
    inputs.push({ name: p.spec.spec.name, datatype: p.spec.spec.datatype, shape: p.shape, data });
    offset += p.size;
  }
  if (offset !== binary.bytes.byteLength) return undefined;
  return { id: memo.id, inputs, outputs: memo.outputs, sagemaker: isSageMakerBinary(headers) };
}

const indexes = new WeakMap<ModelSignature, ScanIndex>();

function indexOf(signature: ModelSignature): ScanIndex {
  let index = indexes.get(signature);
  if (!index) {
    index = {
      inputs: signature.inputs.map((spec) => ({
        spec,
        info: DATATYPE_INFO[spec.datatype],
        name: bytesOf(spec.name),
        datatype: bytesOf(spec.datatype),
      })),
      outputNames: signature.outputs.map((o) => bytesOf(o.name)),
      exactIntegers: signature.inputs.some((i) => DATATYPE_INFO[i.datatype].bigint),
    };
    indexes.set(signature, index);
  }
  return index;
}

/** The where and what of the binary section, as decodeInferRequest split the body. */
export interface BinarySection {
  readonly bytes: Uint8Array;
  /** The JSON header's length, when the request declared one. */
  readonly headerLength: number | undefined;
}

/** Reads a request the general decoder would accept, to the same InferRequest; undefined for any other. */
export function scanInferRequest(
  json: Uint8Array,
  binary: BinarySection,
  headers: Readonly<Record<string, string | undefined>>,
  signature: ModelSignature,
  limits: TensorLimits,
): InferRequest | undefined {
  const index = indexOf(signature);
  const memo = index.memo;
  const memoizable = binary.headerLength !== undefined;
  try {
    if (memoizable && memo !== undefined && memo.limits === limits && sameBytes(memo.header, json)) {
      return fromMemo(memo, binary, headers);
    }
    // The general decoder parses such bodies losslessly, a different parser: it decides them.
    if (index.exactIntegers && hasDigitRun(json, EXACT_INTEGER_DIGITS)) return undefined;
    const plans: BinaryInputPlan[] = [];
    const request = scan(new JsonCursor(json), binary, headers, signature, index, limits, plans);
    if (memoizable && plans.length === request.inputs.length) {
      index.memo = { header: json.slice(), limits, id: request.id, inputs: plans, outputs: request.outputs };
    }
    return request;
  } catch {
    // UNUSUAL, or fillFromBinary's error for a bad binary section: either way the general decoder answers.
    return undefined;
  }
}

function scan(
  c: JsonCursor,
  binary: BinarySection,
  headers: Readonly<Record<string, string | undefined>>,
  signature: ModelSignature,
  index: ScanIndex,
  limits: TensorLimits,
  plans: BinaryInputPlan[],
): InferRequest {
  let id: string | undefined;
  let binaryOutput: boolean | undefined;
  let inputs: Tensor[] | undefined;
  let outputs: { name: string; binary: boolean | undefined }[] | undefined;
  let seen = 0;
  const offset = { value: 0 };
  if (!c.open(OPEN_BRACE, CLOSE_BRACE)) throw UNUSUAL;
  do {
    const key = c.key(REQUEST_KEYS);
    // JSON.parse keeps the last of a key given twice; rare enough to leave to it.
    if (key >= 0 && seen & (1 << key)) throw UNUSUAL;
    if (key >= 0) seen |= 1 << key;
    if (key === ID) {
      id = c.string();
    } else if (key === PARAMETERS) {
      binaryOutput = requestParameters(c);
    } else if (key === INPUTS) {
      inputs = [];
      const taken = new Set<ScanInput>();
      if (c.open(OPEN_BRACKET, CLOSE_BRACKET)) {
        do inputs.push(input(c, index, taken, binary, offset, limits, plans));
        while (c.more(CLOSE_BRACKET));
      }
      if (taken.size !== index.inputs.length) throw UNUSUAL;
    } else if (key === OUTPUTS) {
      outputs = [];
      const taken = new Set<string>();
      if (c.open(OPEN_BRACKET, CLOSE_BRACKET)) {
        do outputs.push(output(c, signature, index, taken));
        while (c.more(CLOSE_BRACKET));
      }
    } else {
      c.skip();
    }
  } while (c.more(CLOSE_BRACE));
  if (!c.atEnd() || inputs === undefined || offset.value !== binary.bytes.byteLength) throw UNUSUAL;

  const binaryDefault = binaryOutput === true;
  const requested: RequestedOutput[] = outputs
    ? outputs.map((o) => ({ name: o.name, binary: o.binary ?? binaryDefault }))
    : signature.outputs.map((o) => ({ name: o.name, binary: binaryDefault }));
  return { id, inputs, outputs: requested, sagemaker: isSageMakerBinary(headers) };
}

function requestParameters(c: JsonCursor): boolean | undefined {
  let binaryOutput: boolean | undefined;
  if (!c.open(OPEN_BRACE, CLOSE_BRACE)) return undefined;
  do {
    if (c.key(REQUEST_PARAMETER_KEYS) === 0) {
      if (binaryOutput !== undefined) throw UNUSUAL;
      binaryOutput = c.boolean();
    } else {
      c.skip();
    }
  } while (c.more(CLOSE_BRACE));
  return binaryOutput;
}

/** A shape as checkShape in decode.ts would accept it, against the manifest's; returns its element count. */
function checkedCount(shape: readonly number[], expected: readonly number[], limits: TensorLimits): number {
  if (shape.length > limits.maxRank || shape.length !== expected.length) throw UNUSUAL;
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    if (expected[i] !== -1 && shape[i] !== expected[i]) throw UNUSUAL;
    count *= shape[i];
  }
  if (count > limits.maxElements) throw UNUSUAL;
  return count;
}

function readShape(c: JsonCursor): number[] {
  const shape: number[] = [];
  if (!c.open(OPEN_BRACKET, CLOSE_BRACKET)) return shape;
  do {
    // -0 passes too, as it does the general check, and stays -0 in the shape as it does there.
    const d = c.number(NumberMode.Integer);
    if (d < 0) throw UNUSUAL;
    shape.push(d);
  } while (c.more(CLOSE_BRACKET));
  return shape;
}

function input(
  c: JsonCursor,
  index: ScanIndex,
  taken: Set<ScanInput>,
  binary: BinarySection,
  offset: { value: number },
  limits: TensorLimits,
  plans: BinaryInputPlan[],
): Tensor {
  let spec: ScanInput | undefined;
  let datatypeStart = -1;
  let datatypeEnd = -1;
  let shape: number[] | undefined;
  let data: TensorData | undefined;
  let binarySize: number | undefined;
  let seen = 0;
  if (!c.open(OPEN_BRACE, CLOSE_BRACE)) throw UNUSUAL;
  do {
    const key = c.key(INPUT_KEYS);
    if (key >= 0 && seen & (1 << key)) throw UNUSUAL;
    if (key >= 0) seen |= 1 << key;
    if (key === NAME) {
      const start = c.stringBytes();
      spec = undefined;
      for (const s of index.inputs) if (c.scannedEquals(start, s.name)) spec = s;
      if (!spec || taken.has(spec)) throw UNUSUAL;
      taken.add(spec);
    } else if (key === DATATYPE) {
      datatypeStart = c.stringBytes();
      datatypeEnd = c.pos;
    } else if (key === SHAPE) {
      shape = readShape(c);
    } else if (key === DATA) {
      if (!spec || !shape || !datatypeMatches(c, spec, datatypeStart, datatypeEnd)) throw UNUSUAL;
      data = scanTensorData(c, spec.info, shape, checkedCount(shape, spec.spec.shape, limits));
    } else if (key === INPUT_PARAMETERS) {
      binarySize = inputParameters(c);
    } else {
      c.skip();
    }
  } while (c.more(CLOSE_BRACE));
  if (!spec || !shape || !datatypeMatches(c, spec, datatypeStart, datatypeEnd)) throw UNUSUAL;
  const count = checkedCount(shape, spec.spec.shape, limits);
  if (binarySize !== undefined) {
    if (data !== undefined || binary.headerLength === undefined) throw UNUSUAL;
    const start = offset.value;
    if (start + binarySize > binary.bytes.byteLength) throw UNUSUAL;
    data = fillFromBinary(spec.spec.name, spec.info, binary.bytes.subarray(start, start + binarySize), count);
    offset.value = start + binarySize;
    plans.push({ spec, shape, count, size: binarySize });
  }
  if (data === undefined) throw UNUSUAL;
  return { name: spec.spec.name, datatype: spec.spec.datatype, shape, data };
}

/** Whether the datatype string scanned at [start, end) (quotes included) is the spec's. */
function datatypeMatches(c: JsonCursor, spec: ScanInput, start: number, end: number): boolean {
  if (start < 0) return false;
  const expected = spec.datatype;
  if (end - 1 - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (c.bytes[start + i] !== expected[i]) return false;
  return true;
}

function inputParameters(c: JsonCursor): number | undefined {
  let size: number | undefined;
  if (!c.open(OPEN_BRACE, CLOSE_BRACE)) return undefined;
  do {
    if (c.key(INPUT_PARAMETER_KEYS) === 0) {
      if (size !== undefined) throw UNUSUAL;
      size = c.number(NumberMode.Integer);
      if (size < 0) throw UNUSUAL;
    } else {
      c.skip();
    }
  } while (c.more(CLOSE_BRACE));
  return size;
}

function output(
  c: JsonCursor,
  signature: ModelSignature,
  index: ScanIndex,
  taken: Set<string>,
): { name: string; binary: boolean | undefined } {
  let name: string | undefined;
  let binary: boolean | undefined;
  let seen = 0;
  if (!c.open(OPEN_BRACE, CLOSE_BRACE)) throw UNUSUAL;
  do {
    const key = c.key(OUTPUT_KEYS);
    if (key >= 0 && seen & (1 << key)) throw UNUSUAL;
    if (key >= 0) seen |= 1 << key;
    if (key === 0) {
      const start = c.stringBytes();
      const i = index.outputNames.findIndex((n) => c.scannedEquals(start, n));
      if (i < 0) throw UNUSUAL;
      name = signature.outputs[i].name;
      if (taken.has(name)) throw UNUSUAL;
      taken.add(name);
    } else if (key === 1) {
      if (c.open(OPEN_BRACE, CLOSE_BRACE)) {
        do {
          if (c.key(OUTPUT_PARAMETER_KEYS) === 0) {
            if (binary !== undefined) throw UNUSUAL;
            binary = c.boolean();
          } else {
            c.skip();
          }
        } while (c.more(CLOSE_BRACE));
      }
    } else {
      c.skip();
    }
  } while (c.more(CLOSE_BRACE));
  if (name === undefined) throw UNUSUAL;
  return { name, binary };
}
