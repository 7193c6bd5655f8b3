/**
 * Decodes a v2 infer request (JSON, or JSON header + Triton binary tensor data) and checks every
 * part of it against the model's signature before onnxruntime sees it. Every failure is a
 * BadRequestError whose message names the input or output at fault.
 *
 * Ordinary JSON takes the fast path (scan-request.ts), which reads the bytes straight into typed
 * arrays. Everything else, and every request in error, takes the general path here: parse the JSON
 * (losslessly where 64-bit integers need it), then check the parsed value. The general path is the
 * reference: the fast one accepts only what it accepts, with the same result.
 */
import { DATATYPE_INFO, type TensorData, isDatatype } from './datatypes';
import { BadRequestError } from './errors';
import { parseJson } from './json';
import { DEFAULT_TENSOR_LIMITS, type TensorLimits } from './limits';
import { scanInferRequest, type BinarySection } from './scan-request';
import { decodeUtf8, describe, fillFromBinary, fillFromJson } from './tensor-fill';
import type { InferRequest, ModelSignature, RequestedOutput, Tensor, TensorMetadata } from './types';
import { binaryHeaderLength, isSageMakerBinary } from './content-type';

// Their home is tensor-fill.ts; the client and the CLI import them from here.
export { decodeUtf8, fillFromBinary, fillFromJson };

/** Look-ups derived from a signature once, not on every request (the router passes the engine's manifest, the same object each time). */
interface SignatureIndex {
  readonly inputs: ReadonlyMap<string, TensorMetadata>;
  readonly outputs: ReadonlySet<string>;
  /** Whether any input can hold 64-bit integers, which JSON.parse would round. */
  readonly exactIntegers: boolean;
}

const indexes = new WeakMap<ModelSignature, SignatureIndex>();

function indexOf(signature: ModelSignature): SignatureIndex {
  let index = indexes.get(signature);
  if (!index) {
    index = {
      inputs: new Map(signature.inputs.map((s) => [s.name, s])),
      outputs: new Set(signature.outputs.map((o) => o.name)),
      exactIntegers: signature.inputs.some((i) => DATATYPE_INFO[i.datatype].bigint),
    };
    indexes.set(signature, index);
  }
  return index;
}

/**
 * A scalar as JSON text for messages. Integers past 2^53 arrive as BigInt from the lossless parser, and
 * JSON.stringify throws on BigInt: that turned a bad request into a 500.
 */
function show(value: unknown): string {
  return typeof value === 'bigint' ? value.toString() : (JSON.stringify(value) ?? describe(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the request shape against the manifest shape (where -1 allows any size) and returns its element count. */
function checkShape(name: string, shape: unknown, expected: readonly number[], limits: TensorLimits): number {
  if (!Array.isArray(shape)) throw new BadRequestError(`input '${name}': shape must be an array of integers, got ${describe(shape)}`);
  if (shape.length > limits.maxRank)
    throw new BadRequestError(`input '${name}': shape has ${shape.length} dimensions, more than the limit of ${limits.maxRank}`);
  if (shape.length !== expected.length) {
    throw new BadRequestError(
      `input '${name}': shape [${shape.join(',')}] has ${shape.length} dimensions but the model expects ${expected.length} ([${expected.join(',')}])`,
    );
  }
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new BadRequestError(`input '${name}': shape[${i}] must be a non-negative integer, got ${show(d)}`);
    }
    if (expected[i] !== -1 && d !== expected[i]) {
      throw new BadRequestError(
        `input '${name}': shape [${shape.join(',')}] does not match the model's [${expected.join(',')}] at dimension ${i}`,
      );
    }
    count *= d;
  }
  if (count > limits.maxElements) {
    throw new BadRequestError(
      `input '${name}': shape [${shape.join(',')}] holds ${count} elements, more than the limit of ${limits.maxElements}`,
    );
  }
  return count;
}

/** Counts the leaves of nested `data`, refusing anything deeper than the rank allows. */
function countLeaves(name: string, data: unknown[], maxDepth: number): number {
  let n = 0;
  for (const v of data) {
    if (Array.isArray(v)) {
      if (maxDepth <= 1) throw new BadRequestError(`input '${name}': data is nested deeper than its shape`);
      n += countLeaves(name, v, maxDepth - 1);
    } else n++;
  }
  return n;
}

function flatten(data: unknown[], out: unknown[]): unknown[] {
  for (const v of data) {
    if (Array.isArray(v)) flatten(v, out);
    else out.push(v);
  }
  return out;
}

function readBinaryDataSize(name: string, parameters: unknown): number | undefined {
  if (parameters === undefined) return undefined;
  if (!isPlainObject(parameters)) throw new BadRequestError(`input '${name}': parameters must be an object, got ${describe(parameters)}`);
  const size = parameters.binary_data_size;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new BadRequestError(`input '${name}': parameters.binary_data_size must be a non-negative integer, got ${show(size)}`);
  }
  return size;
}

function decodeOutputs(
  body: Record<string, unknown>,
  signature: ModelSignature,
  known: ReadonlySet<string>,
  binaryDefault: boolean,
): RequestedOutput[] {
  const requested = body.outputs;
  if (requested === undefined) return signature.outputs.map((o) => ({ name: o.name, binary: binaryDefault }));
  if (!Array.isArray(requested)) throw new BadRequestError(`outputs must be an array, got ${describe(requested)}`);
  const seen = new Set<string>();
  return requested.map((o: unknown, i) => {
    if (!isPlainObject(o) || typeof o.name !== 'string') throw new BadRequestError(`outputs[${i}] must be an object with a string name`);
    if (!known.has(o.name)) throw new BadRequestError(`unknown output '${o.name}'; the model's outputs are: ${[...known].join(', ')}`);
    if (seen.has(o.name)) throw new BadRequestError(`output '${o.name}' is requested twice`);
    seen.add(o.name);
    let binary = binaryDefault;
    if (o.parameters !== undefined) {
      if (!isPlainObject(o.parameters)) throw new BadRequestError(`output '${o.name}': parameters must be an object`);
      const b = o.parameters.binary_data;
      if (b !== undefined && typeof b !== 'boolean')
        throw new BadRequestError(`output '${o.name}': parameters.binary_data must be true or false`);
      if (typeof b === 'boolean') binary = b;
    }
    return { name: o.name, binary };
  });
}

type Headers = Readonly<Record<string, string | undefined>>;

/** Splits a body into its JSON and its binary section, as the headers declare them. */
function frame(body: Uint8Array, headers: Headers): { json: Uint8Array; binary: BinarySection } {
  if (body.byteLength === 0) throw new BadRequestError('request body is empty; send a JSON infer request with an inputs array');
  const headerLength = binaryHeaderLength(headers, body.byteLength);
  // Plain views: Buffer#subarray builds a Buffer, which costs more than the rest of a small request.
  const json = headerLength === undefined ? body : new Uint8Array(body.buffer, body.byteOffset, headerLength);
  const bytes = new Uint8Array(
    body.buffer,
    body.byteOffset + (headerLength ?? body.byteLength),
    body.byteLength - (headerLength ?? body.byteLength),
  );
  return { json, binary: { bytes, headerLength } };
}

/**
 * Decodes and validates an infer request body.
 * @param headers lower-cased request headers (content-type, inference-header-content-length)
 */
export function decodeInferRequest(
  body: Uint8Array,
  headers: Headers,
  signature: ModelSignature,
  limits: TensorLimits = DEFAULT_TENSOR_LIMITS,
): InferRequest {
  const { json, binary } = frame(body, headers);
  return scanInferRequest(json, binary, headers, signature, limits) ?? decodeGeneral(json, binary, headers, signature, limits);
}

/** decodeInferRequest without its fast path: the reference the differential test holds the fast path to. */
export function decodeInferRequestGeneral(
  body: Uint8Array,
  headers: Headers,
  signature: ModelSignature,
  limits: TensorLimits = DEFAULT_TENSOR_LIMITS,
): InferRequest {
  const { json, binary } = frame(body, headers);
  return decodeGeneral(json, binary, headers, signature, limits);
}

function decodeGeneral(
  jsonBytes: Uint8Array,
  { bytes: binary, headerLength }: BinarySection,
  headers: Headers,
  signature: ModelSignature,
  limits: TensorLimits,
): InferRequest {
  const index = indexOf(signature);
  const parsed = parseJson(decodeUtf8(jsonBytes, 'request body'), 'request body', index.exactIntegers);
  if (!isPlainObject(parsed)) throw new BadRequestError(`request body must be a JSON object, got ${describe(parsed)}`);

  const id = parsed.id;
  if (id !== undefined && typeof id !== 'string') throw new BadRequestError(`id must be a string, got ${describe(id)}`);
  const parameters = parsed.parameters;
  if (parameters !== undefined && !isPlainObject(parameters))
    throw new BadRequestError(`parameters must be an object, got ${describe(parameters)}`);
  const binaryOutput = parameters?.binary_data_output;
  if (binaryOutput !== undefined && typeof binaryOutput !== 'boolean')
    throw new BadRequestError('parameters.binary_data_output must be true or false');

  const wireInputs = parsed.inputs;
  if (!Array.isArray(wireInputs)) throw new BadRequestError(`inputs must be an array, got ${describe(wireInputs)}`);
  const specs = index.inputs;
  const seen = new Set<string>();
  const inputs: Tensor[] = [];
  let offset = 0;
  for (let i = 0; i < wireInputs.length; i++) {
    const w: unknown = wireInputs[i];
    if (!isPlainObject(w)) throw new BadRequestError(`inputs[${i}] must be an object, got ${describe(w)}`);
    const name = w.name;
    if (typeof name !== 'string') throw new BadRequestError(`inputs[${i}].name must be a string, got ${describe(name)}`);
    const spec = specs.get(name);
    if (!spec) throw new BadRequestError(`unknown input '${name}'; the model's inputs are: ${[...specs.keys()].join(', ')}`);
    if (seen.has(name)) throw new BadRequestError(`input '${name}' appears twice`);
    seen.add(name);
    const datatype: unknown = w.datatype;
    if (!isDatatype(datatype)) throw new BadRequestError(`input '${name}': datatype ${show(datatype)} is not a v2 datatype`);
    if (datatype !== spec.datatype)
      throw new BadRequestError(`input '${name}': datatype is ${datatype} but the model expects ${spec.datatype}`);
    const info = DATATYPE_INFO[datatype];
    const count = checkShape(name, w.shape, spec.shape, limits);
    const shape = w.shape as number[];
    const binarySize = readBinaryDataSize(name, w.parameters);
    let data: TensorData;
    if (binarySize !== undefined) {
      if (w.data !== undefined) throw new BadRequestError(`input '${name}' has both data and parameters.binary_data_size`);
      if (headerLength === undefined)
        throw new BadRequestError(`input '${name}' has binary_data_size but the request has no Inference-Header-Content-Length`);
      if (offset + binarySize > binary.byteLength) {
        throw new BadRequestError(
          `input '${name}': binary_data_size ${binarySize} runs past the end of the body (${binary.byteLength - offset} bytes remain)`,
        );
      }
      data = fillFromBinary(name, info, binary.subarray(offset, offset + binarySize), count);
      offset += binarySize;
    } else {
      const raw = w.data;
      if (raw === undefined) throw new BadRequestError(`input '${name}' has no data`);
      if (!Array.isArray(raw)) throw new BadRequestError(`input '${name}': data must be an array, got ${describe(raw)}`);
      // Count before flattening or allocating, so a tiny body cannot claim a huge tensor.
      const flat = raw.length === count && (count === 0 || !Array.isArray(raw[0])) ? raw : null;
      const leaves = flat ? count : countLeaves(name, raw, Math.max(shape.length, 1));
      if (leaves !== count) {
        throw new BadRequestError(`input '${name}': data holds ${leaves} elements but shape [${shape.join(',')}] needs ${count}`);
      }
      data = fillFromJson(name, info, flat ?? flatten(raw, []));
    }
    inputs.push({ name, datatype, shape, data });
  }
  if (offset !== binary.byteLength) {
    throw new BadRequestError(`the body has ${binary.byteLength - offset} bytes of binary data that no input claims`);
  }
  const missing = signature.inputs.filter((s) => !seen.has(s.name)).map((s) => s.name);
  if (missing.length > 0)
    throw new BadRequestError(`missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`);

  return {
    id,
    inputs,
    outputs: decodeOutputs(parsed, signature, index.outputs, binaryOutput === true),
    sagemaker: isSageMakerBinary(headers),
  };
}
