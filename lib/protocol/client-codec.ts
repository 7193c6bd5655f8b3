/**
 * The client's side of the protocol: building infer requests (JSON or binary extension) from tensors,
 * and reading responses back into tensors. It reuses the server's element checks and binary layout,
 * so both ends agree on every datatype by construction.
 */
import { DATATYPE_INFO, isDatatype } from './datatypes';
import { binaryHeaderLength } from './content-type';
import { decodeUtf8, fillFromBinary, fillFromJson } from './decode';
import { binaryData, jsonData } from './encode';
import { BadRequestError } from './errors';
import { parseJson } from './json';
import { HEADER_LENGTH_HEADER, SAGEMAKER_BINARY_CONTENT_TYPE } from './content-type';
import type { Tensor } from './types';
import type { WireInferResponse } from './wire';

export interface EncodeRequestOptions {
  readonly id?: string;
  /** Send inputs as binary tensor data. @default false */
  readonly binaryInputs?: boolean;
  /** Ask for outputs as binary tensor data. @default false */
  readonly binaryOutputs?: boolean;
  /** Only these outputs. @default - every output */
  readonly outputs?: readonly string[];
  /** Mark the header length in SageMaker's content type instead of Inference-Header-Content-Length. @default false */
  readonly sagemaker?: boolean;
}

export interface EncodedRequest {
  readonly body: Uint8Array;
  readonly headers: Record<string, string>;
}

/**
 * The JSON header, padded with trailing spaces (still JSON) to a multiple of 8 bytes, so that tensors in
 * the binary section start aligned to their element size and the server reads them in place.
 */
function alignedHeader(json: string): Buffer {
  const length = Buffer.byteLength(json, 'utf8');
  return Buffer.from(json.padEnd(json.length + ((8 - (length % 8)) % 8), ' '), 'utf8');
}

export function encodeInferRequest(inputs: readonly Tensor[], options: EncodeRequestOptions = {}): EncodedRequest {
  const blobs: Uint8Array[] = [];
  const parts = inputs.map((t) => {
    const head = `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
    if (!options.binaryInputs) return `${head},"data":${jsonData(t)}}`;
    const bytes = binaryData(t);
    blobs.push(bytes);
    return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
  });
  const fields = [`"inputs":[${parts.join(',')}]`];
  if (options.id !== undefined) fields.unshift(`"id":${JSON.stringify(options.id)}`);
  if (options.outputs) {
    const binary = options.binaryOutputs ? ',"parameters":{"binary_data":true}' : '';
    fields.push(`"outputs":[${options.outputs.map((n) => `{"name":${JSON.stringify(n)}${binary}}`).join(',')}]`);
  } else if (options.binaryOutputs) {
    fields.push('"parameters":{"binary_data_output":true}');
  }
  const json = `{${fields.join(',')}}`;
  if (blobs.length === 0 && !options.sagemaker) {
    return { body: Buffer.from(json, 'utf8'), headers: { 'content-type': 'application/json' } };
  }
  const header = alignedHeader(json);
  const headers: Record<string, string> = options.sagemaker
    ? { 'content-type': `${SAGEMAKER_BINARY_CONTENT_TYPE};json-header-size=${header.length}` }
    : { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(header.length) };
  return { body: Buffer.concat([header, ...blobs]), headers };
}

export interface DecodedResponse {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  readonly outputs: Tensor[];
}

/** Reads a v2 infer response (JSON or with binary outputs) into tensors. Throws on a malformed one. */
export function decodeInferResponse(body: Uint8Array, headers: Readonly<Record<string, string | undefined>>): DecodedResponse {
  const headerLength = binaryHeaderLength(headers, body.byteLength);
  const json = headerLength === undefined ? body : body.subarray(0, headerLength);
  // Typed as the protocol says; each field is still checked, since a server may send anything.
  const parsed = parseJson(decodeUtf8(json, 'response body'), 'response body') as WireInferResponse;
  if (!parsed || !Array.isArray(parsed.outputs)) throw new BadRequestError('response has no outputs array');
  let offset = headerLength ?? 0;
  const outputs = parsed.outputs.map((o): Tensor => {
    if (!isDatatype(o.datatype)) throw new BadRequestError(`output '${o.name}' has unknown datatype ${String(o.datatype)}`);
    const info = DATATYPE_INFO[o.datatype];
    const count = o.shape.reduce((n, d) => n * d, 1);
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      const data = fillFromBinary(o.name, info, body.subarray(offset, offset + size), count);
      offset += size;
      return { name: o.name, datatype: o.datatype, shape: o.shape, data };
    }
    // JSON carries NaN and infinities as null; they come back as NaN.
    const values = o.datatype.startsWith('FP') ? (o.data ?? []).map((v) => (v === null ? NaN : v)) : (o.data ?? []);
    return { name: o.name, datatype: o.datatype, shape: o.shape, data: fillFromJson(o.name, info, values) };
  });
  return { modelName: parsed.model_name, modelVersion: parsed.model_version, id: parsed.id, outputs };
}
