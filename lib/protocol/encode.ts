/**
 * Encodes an inference result as a v2 response: JSON, or a JSON header followed by Triton binary
 * tensor data for the outputs the caller asked to receive as binary.
 */
import type { TensorData } from './datatypes';
import { HEADER_LENGTH_HEADER, SAGEMAKER_BINARY_CONTENT_TYPE } from './content-type';
import { float16Json, float32Json } from './float-json';
import type { InferRequest, InferResult, Tensor } from './types';

export const JSON_CONTENT_TYPE = 'application/json';

/**
 * An encoded infer response: the body, and the headers that say how to read it (the content type and,
 * for binary tensor data, where the JSON header ends). The router adds the status.
 */
export interface EncodedResponse {
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text, or the JSON header followed by binary tensor data. */
  readonly body: string | Uint8Array;
}

// Shared by every JSON answer, and frozen so that no front can change it for the others.
const JSON_HEADERS = Object.freeze({ 'content-type': JSON_CONTENT_TYPE });

/**
 * JSON text of a tensor's elements. FP32 and FP16 elements are the shortest decimals that read back to
 * the same float (float-json.ts); FP64 and integers join straight to JSON numbers (BigInt included,
 * exactly). NaN and infinities, which JSON cannot express, become null. The binary extension carries
 * them intact.
 */
export function jsonData(t: Pick<Tensor, 'datatype' | 'data'>): string {
  const data = t.data;
  switch (t.datatype) {
    case 'BYTES':
      return JSON.stringify(data);
    case 'BOOL':
      return `[${Array.from(data as Uint8Array, (v) => (v ? 'true' : 'false')).join(',')}]`;
    case 'FP16':
      return float16Json(data as Uint16Array);
    case 'FP32':
      return float32Json(data as Float32Array);
    case 'FP64':
      return finiteJson(data as Float64Array);
    default:
      return `[${(data as Exclude<TensorData, string[]>).join(',')}]`;
  }
}

function finiteJson(values: Float64Array): string {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return `[${Array.from(values, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',')}]`;
  }
  return `[${values.join(',')}]`;
}

/** The bytes of a tensor as Triton's binary extension lays them out (little-endian; BYTES length-prefixed). */
export function binaryData(t: Pick<Tensor, 'datatype' | 'data'>): Uint8Array {
  if (t.datatype !== 'BYTES') {
    const d = t.data as Exclude<TensorData, string[]>;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  const parts = (t.data as string[]).map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, offset);
    p.copy(out, offset + 4);
    offset += 4 + p.length;
  }
  return out;
}

/**
 * The JSON header of the last answer whose outputs all went as binary data, with what it was written from.
 * A client asking for the same outputs at the same batch size gets the same header every time, so the
 * next such answer copies its bytes instead of writing them again: measured on the binary path at batch 1
 * (bench/p1-overhead.ts), writing the header was a third of what the encoder costs.
 */
interface BinaryAnswerHeader {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string | undefined;
  readonly sagemaker: boolean;
  /** The request's outputs, by identity: the decoder shares them between requests with the same header. */
  readonly requested: InferRequest['outputs'];
  readonly tensors: readonly { readonly datatype: string; readonly shape: readonly number[]; readonly bytes: number }[];
  readonly json: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

let lastBinaryHeader: BinaryAnswerHeader | undefined;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The answer, when `last` is the header for it; undefined otherwise. */
function fromLastHeader(
  last: BinaryAnswerHeader,
  result: InferResult,
  request: Pick<InferRequest, 'outputs' | 'sagemaker'>,
): EncodedResponse | undefined {
  if (
    last.requested !== request.outputs ||
    last.sagemaker !== request.sagemaker ||
    last.id !== result.id ||
    last.modelName !== result.modelName ||
    last.modelVersion !== result.modelVersion ||
    result.outputs.length !== last.tensors.length
  ) {
    return undefined;
  }
  const blobs: Uint8Array[] = [];
  let total = last.json.byteLength;
  for (let i = 0; i < last.tensors.length; i++) {
    const t = result.outputs[i];
    const was = last.tensors[i];
    if (t.name !== request.outputs[i].name || t.datatype !== was.datatype || t.datatype === 'BYTES' || !sameShape(t.shape, was.shape))
      return undefined;
    const bytes = binaryData(t);
    if (bytes.byteLength !== was.bytes) return undefined;
    blobs.push(bytes);
    total += bytes.byteLength;
  }
  return { headers: last.headers, body: withBlobs(total, last.json, blobs) };
}

/** One buffer of `total` bytes: the JSON header (text, or its bytes), then the blobs. */
function withBlobs(total: number, header: string | Buffer, blobs: readonly Uint8Array[]): Buffer {
  const body = Buffer.allocUnsafe(total);
  let offset = typeof header === 'string' ? body.write(header, 0, 'utf8') : header.copy(body, 0);
  for (const b of blobs) {
    body.set(b, offset);
    offset += b.byteLength;
  }
  return body;
}

/** Encodes a result for the request that produced it; outputs appear in the order the request asked for. */
export function encodeInferResponse(result: InferResult, request: Pick<InferRequest, 'outputs' | 'sagemaker'>): EncodedResponse {
  const reused = lastBinaryHeader && fromLastHeader(lastBinaryHeader, result, request);
  if (reused) return reused;
  const outputs = result.outputs;
  const blobs: Uint8Array[] = [];
  const parts: string[] = [];
  for (let i = 0; i < request.outputs.length; i++) {
    const wanted = request.outputs[i];
    // The engine answers in the order asked, so the index hits; the search covers results built elsewhere.
    const t = outputs[i]?.name === wanted.name ? outputs[i] : outputs.find((o) => o.name === wanted.name);
    if (!t) continue;
    const head = `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
    if (wanted.binary) {
      const bytes = binaryData(t);
      blobs.push(bytes);
      parts.push(`${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`);
    } else {
      parts.push(`${head},"data":${jsonData(t)}}`);
    }
  }
  const id = result.id === undefined ? '' : `,"id":${JSON.stringify(result.id)}`;
  const json = `{"model_name":${JSON.stringify(result.modelName)},"model_version":${JSON.stringify(result.modelVersion)}${id},"outputs":[${parts.join(',')}]}`;
  if (blobs.length === 0) return { headers: JSON_HEADERS, body: json };

  // One allocation for header and tensors: this runs once per binary answer.
  const headerLength = Buffer.byteLength(json, 'utf8');
  let total = headerLength;
  for (const b of blobs) total += b.byteLength;
  const body = withBlobs(total, json, blobs);
  const fields: Record<string, string> = request.sagemaker
    ? { 'content-type': `${SAGEMAKER_BINARY_CONTENT_TYPE};json-header-size=${headerLength}` }
    : { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(headerLength) };
  // Frozen, as JSON_HEADERS is: the next answer with this header shares the object.
  const headers = Object.freeze(fields);
  const allBinary = blobs.length === request.outputs.length && outputs.length === request.outputs.length;
  if (allBinary && outputs.every((t, i) => t.name === request.outputs[i].name && t.datatype !== 'BYTES')) {
    lastBinaryHeader = {
      modelName: result.modelName,
      modelVersion: result.modelVersion,
      id: result.id,
      sagemaker: request.sagemaker,
      requested: request.outputs,
      tensors: outputs.map((t, i) => ({ datatype: t.datatype, shape: [...t.shape], bytes: blobs[i].byteLength })),
      json: Buffer.from(body.subarray(0, headerLength)),
      headers,
    };
  }
  return { headers, body };
}
