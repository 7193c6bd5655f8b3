/**
 * Lambda's synchronous invoke payload limit, for the fronts of a model that is deployed as a function behind
 * API Gateway: the Lambda handler (lambda/api-gateway.ts) and the local server for cpu packages
 * (lib/local/server.ts), so that what one of them takes the other takes too. The limit counts the invoke
 * payload, not the HTTP body: a request is the whole proxy event, its body a JSON string (base64 for the
 * binary media types) beside headers and requestContext; a response is the proxy result as the Node.js
 * runtime serializes it. README.md ("Payload limits") gives the sources and the arithmetic.
 */
import { PayloadTooLargeError } from './errors';

/** "6 MB each for request and response (synchronous)" (Lambda quotas), in the binary megabytes Lambda's refusals count in. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * Room kept for what the event wraps around the body. A REST API event carries every header twice
 * (headers and multiValueHeaders) beside requestContext; 64 KiB leaves ordinary headers far more than enough.
 */
export const LAMBDA_EVENT_ENVELOPE_BYTES = 64 * 1024;

/** The most a request body may take inside its event, quotes included: 6,225,920 bytes. */
export const LAMBDA_REQUEST_BODY_LIMIT_BYTES = LAMBDA_PAYLOAD_LIMIT_BYTES - LAMBDA_EVENT_ENVELOPE_BYTES;

/**
 * The content types API Gateway hands to Lambda base64-encoded: ModelApi's binaryMediaTypes
 * (test/constructs/model-api.test.ts holds the two lists equal). Every other body travels as text.
 */
export const LAMBDA_BINARY_MEDIA_TYPES: readonly string[] = ['application/octet-stream', 'application/vnd.sagemaker-triton.binary+json'];

/** What each UTF-16 unit may become in JSON text at most: `\u001f` is six bytes. */
const MAX_JSON_BYTES_PER_UNIT = 6;

function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8');
}

export function isLambdaBinaryMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return LAMBDA_BINARY_MEDIA_TYPES.includes(type);
}

function requestRefusal(bytes: number, base64: boolean): PayloadTooLargeError {
  const how = base64 ? ', base64-encoded' : '';
  const advice = base64 ? 'send a smaller batch' : 'send the tensors with the binary extension, or a smaller batch';
  return new PayloadTooLargeError(
    `the body would take ${bytes} bytes in the Lambda event${how}; the limit is ${LAMBDA_REQUEST_BODY_LIMIT_BYTES} ` +
      `(Lambda's ${LAMBDA_PAYLOAD_LIMIT_BYTES}-byte synchronous payload, less ${LAMBDA_EVENT_ENVELOPE_BYTES} for the rest of the event); ${advice}`,
  );
}

/**
 * The 413 for a body as an API Gateway event carries it (`event.body`, already base64 when
 * `isBase64Encoded`), or undefined when it fits. A body that short cannot reach the limit is not measured.
 */
export function lambdaEventBodyRefusal(carried: string, base64: boolean): PayloadTooLargeError | undefined {
  if (carried.length * MAX_JSON_BYTES_PER_UNIT + 2 <= LAMBDA_REQUEST_BODY_LIMIT_BYTES) return undefined;
  const bytes = base64 ? carried.length + 2 : jsonStringBytes(carried);
  return bytes > LAMBDA_REQUEST_BODY_LIMIT_BYTES ? requestRefusal(bytes, base64) : undefined;
}

/**
 * The 413 for an HTTP body that API Gateway would put in a Lambda event (base64 for the binary media types,
 * else as text), or undefined when it fits: the same verdict lambdaEventBodyRefusal gives that event.
 */
export function lambdaBodyRefusal(body: Uint8Array, contentType: string | undefined): PayloadTooLargeError | undefined {
  const base64 = isLambdaBinaryMediaType(contentType);
  // Decoding never shrinks bytes (a stray byte becomes a 3-byte U+FFFD), so a body this short fits either way.
  if (body.byteLength * MAX_JSON_BYTES_PER_UNIT + 2 <= LAMBDA_REQUEST_BODY_LIMIT_BYTES) return undefined;
  const bytes = base64
    ? base64Length(body.byteLength) + 2
    : jsonStringBytes(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  return bytes > LAMBDA_REQUEST_BODY_LIMIT_BYTES ? requestRefusal(bytes, base64) : undefined;
}

/** An answer as the fronts hold it (lib/router/http.ts's HttpResponse); bytes go back base64-encoded. */
export interface LambdaAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/**
 * The bytes of the proxy result `{statusCode, headers, body, isBase64Encoded}` the Node.js runtime sends
 * back for `answer`, which is what Lambda's response limit counts.
 */
export function lambdaResultBytes(answer: LambdaAnswer): number {
  const base64 = typeof answer.body !== 'string';
  const rest = Buffer.byteLength(JSON.stringify({ statusCode: answer.status, headers: answer.headers, body: '', isBase64Encoded: base64 }));
  const body = typeof answer.body === 'string' ? jsonStringBytes(answer.body) - 2 : base64Length(answer.body.byteLength);
  return rest + body;
}

/**
 * The 413 that replaces an answer whose proxy result would be over Lambda's limit, or undefined when it
 * fits. Without it the function would fail after the work was done, and API Gateway would answer 502
 * "Internal server error", which says nothing of why.
 */
export function lambdaResultRefusal(answer: LambdaAnswer): PayloadTooLargeError | undefined {
  const binary = typeof answer.body !== 'string';
  const worst = binary ? base64Length(answer.body.length) : answer.body.length * MAX_JSON_BYTES_PER_UNIT;
  // The router's headers are a few short values: the envelope's room covers them and the result's own keys.
  if (worst + LAMBDA_EVENT_ENVELOPE_BYTES <= LAMBDA_PAYLOAD_LIMIT_BYTES) return undefined;
  const bytes = lambdaResultBytes(answer);
  if (bytes <= LAMBDA_PAYLOAD_LIMIT_BYTES) return undefined;
  const how = binary ? ', base64-encoded' : '';
  const advice = binary ? 'send a smaller batch' : 'ask for binary outputs (parameters.binary_data_output: true), or send a smaller batch';
  return new PayloadTooLargeError(
    `the response would take ${bytes} bytes as a Lambda result${how}, over Lambda's ${LAMBDA_PAYLOAD_LIMIT_BYTES}-byte synchronous payload limit; ${advice}`,
  );
}
