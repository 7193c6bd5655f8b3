import { MethodNotAllowedError, ProtocolError, TooManyRequestsError } from '../protocol/errors';
import type { HttpResponse } from '../protocol/types';

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(value) };
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
    return jsonResponse(err.status, { error: err.message }, headers);
  }
  return jsonResponse(500, { error: 'internal error' });
}
