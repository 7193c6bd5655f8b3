/**
 * Where the JSON header ends in a binary-extension body. Triton marks it with the
 * Inference-Header-Content-Length header; SageMaker's Triton container, which cannot pass custom
 * headers through InvokeEndpoint, marks it in the content type instead.
 */
import { BadRequestError } from './errors';

export const HEADER_LENGTH_HEADER = 'inference-header-content-length';
export const SAGEMAKER_BINARY_CONTENT_TYPE = 'application/vnd.sagemaker-triton.binary+json';

const SAGEMAKER_HEADER_SIZE = /^\s*application\/vnd\.sagemaker-triton\.binary\+json\s*;\s*json-header-size\s*=\s*(\S+?)\s*(;|$)/i;

export function isSageMakerBinary(headers: Readonly<Record<string, string | undefined>>): boolean {
  const type = headers['content-type'];
  return type !== undefined && type.toLowerCase().trimStart().startsWith(SAGEMAKER_BINARY_CONTENT_TYPE);
}

function parseLength(raw: string, what: string, bodyLength: number): number {
  if (!/^\d+$/.test(raw)) throw new BadRequestError(`${what} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n > bodyLength) throw new BadRequestError(`${what} is ${n} but the body has only ${bodyLength} bytes`);
  return n;
}

/** The JSON header's length, or undefined when the whole body is JSON. */
export function binaryHeaderLength(headers: Readonly<Record<string, string | undefined>>, bodyLength: number): number | undefined {
  const explicit = headers[HEADER_LENGTH_HEADER];
  if (explicit !== undefined) return parseLength(explicit.trim(), 'Inference-Header-Content-Length', bodyLength);
  if (isSageMakerBinary(headers)) {
    const m = SAGEMAKER_HEADER_SIZE.exec(headers['content-type'] ?? '');
    if (!m) throw new BadRequestError(`content type ${SAGEMAKER_BINARY_CONTENT_TYPE} needs a json-header-size parameter`);
    return parseLength(m[1], 'json-header-size', bodyLength);
  }
  return undefined;
}
