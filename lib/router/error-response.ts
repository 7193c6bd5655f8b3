import { MethodNotAllowedError, ProtocolError, TooManyRequestsError } from '../protocol/errors';
import { errorBody } from '../protocol/responses';
import type { HttpResponse } from '../protocol/types';

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** A JSON answer; `body` is already JSON text, built by lib/protocol/responses.ts. */
export function jsonResponse(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body };
}

/**
 * The one place where errors become responses. Named errors carry their status and a message meant for
 * the caller; anything else is our fault, so its message (which may hold paths or internals) stays in the log.
 */
export function errorResponse(err: unknown): HttpResponse {
  if (err instanceof ProtocolError) {
    const headers: Record<string, string> = {};
    if (err instanceof TooManyRequestsError) headers['retry-after'] = String(err.retryAfterSeconds);
    if (err instanceof MethodNotAllowedError) headers.allow = err.allow.join(', ');
    return jsonResponse(err.status, errorBody(err.message), headers);
  }
  return jsonResponse(500, errorBody('internal error'));
}
