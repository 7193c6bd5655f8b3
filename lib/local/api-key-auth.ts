/**
 * The API key scheme: a key in `x-api-key`, matched exactly (case-sensitive, whole value) as API Gateway does.
 */
import { createHash } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '../protocol/errors';
import type { AuthScheme, Principal, RequestHeaders } from './auth';
import type { ApiKeyConfig } from './config';

/** The header API Gateway reads API keys from. */
export const API_KEY_HEADER = 'x-api-key';

function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64');
}

/**
 * Builds the API key scheme. Keys are looked up by their sha256 digest, never compared as strings, so the
 * time a lookup takes says nothing about how much of a guessed key was right.
 */
export function apiKeyScheme(keys: readonly ApiKeyConfig[]): AuthScheme {
  const byDigest = new Map<string, { readonly key: ApiKeyConfig; readonly principal: Principal }>();
  for (const key of keys) {
    byDigest.set(digest(key.value), { key, principal: { id: `apiKey:${key.name}`, kind: 'apiKey', plan: key.plan } });
  }
  return {
    expects: `an API key in ${API_KEY_HEADER}`,
    presented: (headers: RequestHeaders) => (headers[API_KEY_HEADER] ?? '') !== '',
    // eslint-disable-next-line @typescript-eslint/require-await -- AuthScheme is async for JWKS and SigV4; a key look-up needs no I/O, and a throw here must still reject
    async authenticate(headers: RequestHeaders): Promise<Principal> {
      const found = byDigest.get(digest(headers[API_KEY_HEADER] ?? ''));
      if (found === undefined) throw new UnauthorizedError(`the API key in ${API_KEY_HEADER} is not valid`);
      if (!found.key.enabled) throw new ForbiddenError(`API key "${found.key.name}" is disabled`);
      return found.principal;
    },
  };
}
