/**
 * Request authentication for the local server: the credentials API Gateway would check, checked here.
 * Each credential type is an {@link AuthScheme}; the authenticator tries the schemes in order, so a later
 * scheme (IAM SigV4) plugs in without touching the existing ones.
 */
import { UnauthorizedError } from '../protocol/errors';
import type { Clock } from '../util/clock';
import { apiKeyScheme } from './api-key-auth';
import type { ServerConfig } from './config';

/** Request headers with lower-cased names, as node:http gives them. */
export type RequestHeaders = Readonly<Record<string, string | undefined>>;

/** Who is calling. */
export interface Principal {
  /** Stable id for rate limiting and logs; never a secret. `apiKey:<name>`, `jwt:<sub>` or `sigv4:<accessKeyId>`. */
  readonly id: string;
  readonly kind: 'apiKey' | 'jwt' | 'sigv4';
  /** Usage plan the caller's requests count against; none means unlimited. */
  readonly plan?: string;
}

/**
 * The rest of the request, for schemes that sign it (SigV4 covers the method, path, query and body).
 * Header-only schemes ignore it.
 */
export interface RequestTarget {
  readonly method: string;
  /** The path as received, still percent-encoded, without the query. */
  readonly path: string;
  /** The raw query string, without '?'; '' when there is none. */
  readonly query: string;
  /** The body, read before authentication only when {@link Authenticator.needsBody} said so. */
  readonly body?: Uint8Array;
}

/** Checks request headers and says who sent them. */
export interface Authenticator {
  /**
   * @param request the method, path, query and (when {@link needsBody} is true) body, for signing schemes
   * @throws UnauthorizedError (401) when credentials are missing or invalid
   * @throws ForbiddenError (403) when they are valid but not allowed (a disabled API key)
   * @throws NotReadyError (503) when the keys to check them cannot be fetched (a JWKS URL is down)
   */
  authenticate(headers: RequestHeaders, request?: RequestTarget): Promise<Principal>;
  /**
   * Whether the body must be read (up to the body limit) before {@link authenticate}, because a presented
   * credential signs it. @default - false: the body is read after authentication and rate limiting
   */
  needsBody?(headers: RequestHeaders): boolean;
}

/** One kind of credential. */
export interface AuthScheme {
  /** What a caller must send, for the missing-credentials message: "an API key in x-api-key". */
  readonly expects: string;
  /** Whether the request carries this scheme's credential at all (valid or not). */
  presented(headers: RequestHeaders): boolean;
  /** Verifies the credential; called only when {@link presented} is true. */
  authenticate(headers: RequestHeaders, request?: RequestTarget): Promise<Principal>;
  /** Whether verifying this (presented) credential needs the body. @default - false */
  needsBody?(headers: RequestHeaders): boolean;
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

  needsBody(headers: RequestHeaders): boolean {
    return this.schemes.some((s) => s.needsBody !== undefined && s.presented(headers) && s.needsBody(headers));
  }

  async authenticate(headers: RequestHeaders, request?: RequestTarget): Promise<Principal> {
    let principal: Principal | undefined;
    for (const scheme of this.schemes) {
      if (!scheme.presented(headers)) continue;
      const p = await scheme.authenticate(headers, request);
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
  /** Further schemes tried after the configured ones. */
  readonly extraSchemes?: readonly AuthScheme[];
  /** The clock JWT exp/nbf and SigV4 dates are checked against. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Builds the authenticator a config describes: API keys in `x-api-key` when any are configured,
 * bearer JWTs when `jwt` is set, SigV4 (IAM) when `sigv4` is set, then `extraSchemes`. Reads a JWKS file now, so a bad one stops the start.
 */
export function createAuthenticator(config: ServerConfig, opts: AuthenticatorOptions = {}): Authenticator {
  const schemes: AuthScheme[] = [];
  if (config.apiKeys.length > 0) schemes.push(apiKeyScheme(config.apiKeys));
  if (config.jwt !== undefined) {
    // Loaded only when configured: jose costs ~30 ms of start-up, which `modelship serve` pays at every start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load inside a synchronous factory
    const { jwtScheme } = require('./jwt-auth') as typeof import('./jwt-auth');
    schemes.push(jwtScheme(config.jwt, { baseDir: opts.baseDir, clock: opts.clock }));
  }
  if (config.sigv4 !== undefined) {
    // Loaded only when configured, like jose: the signer and its hash are not free at start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load inside a synchronous factory
    const { sigv4Scheme } = require('./sigv4-auth') as typeof import('./sigv4-auth');
    schemes.push(sigv4Scheme(config.sigv4, { clock: opts.clock }));
  }
  schemes.push(...(opts.extraSchemes ?? []));
  return new SchemeAuthenticator(schemes);
}
