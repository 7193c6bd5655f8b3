/**
 * The HTTP side of the protocol, in one module: the transport-neutral exchange every front converts to
 * and from (so that the Lambda and local fronts share every route), and the two ways a response is built.
 * lib/protocol knows nothing of it; the router turns codec output and protocol errors into responses here.
 */
import { JSON_CONTENT_TYPE } from '../protocol/encode';
import { MethodNotAllowedError, ProtocolError, TooManyRequestsError } from '../protocol/errors';
import { errorBody } from '../protocol/responses';

export interface HttpRequest {
  readonly method: string;
  /** The path without query string, starting at /v2. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A string for JSON bodies; bytes for binary tensor data. */
  readonly body: string | Uint8Array;
}

// Shared by every answer without extra headers rather than copied for each; frozen, so that a front that
// tried to add to it would throw rather than change it for every other answer.
const JSON_HEADERS = Object.freeze({ 'content-type': JSON_CONTENT_TYPE });

/** A JSON answer; `body` is already JSON text, built by lib/protocol/responses.ts. */
export function jsonResponse(status: number, body: string, headers?: Record<string, string>): HttpResponse {
  return { status, headers: headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers }, body };
}

/**
 * The one place where errors become responses. Named errors carry their status and a message meant for
 * the caller; anything else is our fault, so its message (which may hold paths or internals) stays in the log.
 */
export function errorResponse(err: unknown): HttpResponse {
  if (err instanceof ProtocolError) {
    let headers: Record<string, string> | undefined;
    if (err instanceof TooManyRequestsError) headers = { 'retry-after': String(err.retryAfterSeconds) };
    if (err instanceof MethodNotAllowedError) headers = { allow: err.allow.join(', ') };
    return jsonResponse(err.status, errorBody(err.message), headers);
  }
  return jsonResponse(500, errorBody('internal error'));
}
