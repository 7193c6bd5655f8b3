/**
 * Request authentication for the local server: the credentials API Gateway would check, checked here.
 * Each credential type is an {@link AuthScheme}; the authenticator tries the schemes in order, so a later
 * scheme (IAM SigV4) plugs in without touching the existing ones.
 */
import { UnauthorizedError } from '../protocol/errors';
import { apiKeyScheme } from './api-key-auth';
import type { ServerConfig } from './config';

/** Request headers with lower-cased names, as node:http gives them. */
export type RequestHeaders = Readonly<Record<string, string | undefined>>;

/** Who is calling. */
export interface Principal {
  /** Stable id for rate limiting and logs; never a secret. `apiKey:<name>` or `jwt:<sub>`. */
  readonly id: string;
  readonly kind: 'apiKey' | 'jwt';
  /** Usage plan the caller's requests count against; none means unlimited. */
  readonly plan?: string;
}

/** Checks request headers and says who sent them. */
export interface Authenticator {
  /**
   * @throws UnauthorizedError (401) when credentials are missing or invalid
   * @throws ForbiddenError (403) when they are valid but not allowed (a disabled API key)
   * @throws NotReadyError (503) when the keys to check them cannot be fetched (a JWKS URL is down)
   */
  authenticate(headers: RequestHeaders): Promise<Principal>;
}

/** One kind of credential. */
export interface AuthScheme {
  /** What a caller must send, for the missing-credentials message: "an API key in x-api-key". */
  readonly expects: string;
  /** Whether the request carries this scheme's credential at all (valid or not). */
  presented(headers: RequestHeaders): boolean;
  /** Verifies the credential; called only when {@link presented} is true. */
  authenticate(headers: RequestHeaders): Promise<Principal>;
}

/** Authorization schemes are tokens (RFC 9110); anything else is not worth repeating back. */
const SCHEME_WORD = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;

/**
 * Tries schemes in order. Every credential the request presents must be valid (as on API Gateway, where
 * an API key and an authorizer are checked independently); the first presented scheme's principal wins.
 */
export class SchemeAuthenticator implements Authenticator {
  constructor(private readonly schemes: readonly AuthScheme[]) {
    if (schemes.length === 0) throw new Error('an authenticator needs at least one scheme');
  }

  async authenticate(headers: RequestHeaders): Promise<Principal> {
    let principal: Principal | undefined;
    for (const scheme of this.schemes) {
      if (!scheme.presented(headers)) continue;
      const p = await scheme.authenticate(headers);
      principal ??= p;
    }
    if (principal !== undefined) return principal;

    const expected = this.schemes.map((s) => s.expects).join(' or ');
    const authorization = headers['authorization'];
    if (authorization !== undefined && authorization.trim() !== '') {
      const word = authorization.trim().split(/\s+/, 1)[0] ?? '';
      const named = SCHEME_WORD.test(word) ? ` "${word}"` : '';
      throw new UnauthorizedError(`unsupported Authorization scheme${named}: send ${expected}`);
    }
    throw new UnauthorizedError(`missing credentials: send ${expected}`);
  }
}

/** Options for {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  /** Directory a relative `jwt.jwksFile` is resolved against; defaults to the working directory. */
  readonly baseDir?: string;
  /** Further schemes tried after the API key and JWT ones (the extension point for SigV4). */
  readonly extraSchemes?: readonly AuthScheme[];
}

/**
 * Builds the authenticator a config describes: API keys in `x-api-key` when any are configured,
 * bearer JWTs when `jwt` is set, then `extraSchemes`. Reads a JWKS file now, so a bad one stops the start.
 */
export function createAuthenticator(config: ServerConfig, opts: AuthenticatorOptions = {}): Authenticator {
  const schemes: AuthScheme[] = [];
  if (config.apiKeys.length > 0) schemes.push(apiKeyScheme(config.apiKeys));
  if (config.jwt !== undefined) {
    // Loaded only when configured: jose costs ~30 ms of start-up, and cold start is a design target (P3).
    const { jwtScheme } = require('./jwt-auth') as typeof import('./jwt-auth');
    schemes.push(jwtScheme(config.jwt, { baseDir: opts.baseDir }));
  }
  schemes.push(...(opts.extraSchemes ?? []));
  return new SchemeAuthenticator(schemes);
}
