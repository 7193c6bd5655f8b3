/**
 * Calls to this server's authenticated routes, same origin, with the credential, timed. The answer's
 * body is kept as text: a JSON error body is read for its message, and anything else is shown as text.
 */
import type { ErrorBody } from '../../protocol/wire';
import { authHeaders, type Credential } from './credential';

export interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
  /** From sending the request to having the whole body. */
  readonly ms: number;
}

export async function call(credential: Credential, method: 'GET' | 'POST', path: string, body?: string): Promise<Answer> {
  const headers: Record<string, string> = { ...authHeaders(credential), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  const res = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'omit', redirect: 'error' });
  const text = await res.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, statusText: res.statusText, ok: res.ok, text, json, ms };
}

/** What went wrong, from the server's own words: the `error` of its JSON body, or the body's first 300 characters. */
export function errorText(a: Answer): string {
  const e = (a.json as Partial<ErrorBody> | undefined)?.error;
  if (typeof e === 'string') return e;
  return a.text.length > 300 ? `${a.text.slice(0, 300)}…` : a.text || `HTTP ${a.status}`;
}
