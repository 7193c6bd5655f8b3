/**
 * The bearer JWT scheme: `Authorization: Bearer <token>`, checked like an API Gateway JWT authorizer
 * (signature against a JWKS, issuer, audience, exp and nbf).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ProtocolError, NotReadyError, UnauthorizedError } from '../protocol/errors';
import { systemClock, type Clock } from '../util/clock';
import type { AuthScheme, Principal, RequestHeaders } from './auth';
import { ConfigError, type JwtConfig } from './config';

/**
 * Asymmetric algorithms only. With a symmetric one (HS256) a JWKS public key could be used as an HMAC
 * secret, and `none` would skip the signature altogether.
 */
export const JWT_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const BEARER = /^bearer(?:\s|$)/i;
const BEARER_TOKEN = /^bearer\s+(\S+)\s*$/i;

/** The key set could not be consulted: a server-side problem, not a bad token. */
class KeySetUnavailable extends Error {}

/** Reads and checks a JWKS file: public keys only. Also used at synth by ApiAuth.jwt({ jwksFile }). */
export function readJwksFile(path: string): JSONWebKeySet {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`jwt.jwksFile ${path} cannot be read as JSON: ${(err as Error).message}`);
  }
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'object' || k === null)) {
    throw new ConfigError(`jwt.jwksFile ${path} is not a JWKS: it needs a "keys" array of JWK objects`);
  }
  // Public keys are all verification needs; a private one here means a secret was copied by mistake.
  if (keys.some((k: object) => 'd' in k || 'k' in k)) {
    throw new ConfigError(`jwt.jwksFile ${path} holds private or symmetric key material; publish only public keys`);
  }
  return json as JSONWebKeySet;
}

/** Turns jose's failures into answers that say which check failed and never repeat the token. */
function toHttpError(err: unknown, keySource: string): ProtocolError {
  if (err instanceof KeySetUnavailable) {
    return new NotReadyError(`cannot get the JWT signing keys from ${keySource}: ${err.message}`);
  }
  if (err instanceof errors.JWTExpired) return new UnauthorizedError('bearer token has expired ("exp")');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new UnauthorizedError(`bearer token lacks the required "${err.claim}" claim`);
    switch (err.claim) {
      case 'iss':
        return new UnauthorizedError('bearer token issuer ("iss") is not the expected one');
      case 'aud':
        return new UnauthorizedError('bearer token audience ("aud") is not an expected one');
      case 'nbf':
        return new UnauthorizedError('bearer token is not valid yet ("nbf")');
      default:
        return new UnauthorizedError(`bearer token claim "${err.claim}" is invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new UnauthorizedError(`bearer token algorithm is not allowed; expected one of ${JWT_ALGORITHMS.join(', ')}`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return new UnauthorizedError('bearer token is not signed by a trusted key: no key in the JWKS matches it');
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys) {
    return new UnauthorizedError('bearer token matches several keys in the JWKS; it needs a "kid" header');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new UnauthorizedError('bearer token signature is invalid');
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return new UnauthorizedError('bearer token is malformed: expected a signed JWT (header.payload.signature)');
  }
  // Whatever else jose throws (a key of the wrong type for the header's alg, say) was caused by the token.
  return new UnauthorizedError('bearer token could not be verified');
}

/** Options for {@link jwtScheme}. */
export interface JwtSchemeOptions {
  /** Directory a relative `jwksFile` is resolved against; defaults to the working directory. */
  readonly baseDir?: string;
  /** The clock exp and nbf are checked against. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Builds the bearer JWT scheme. A `jwksFile` is read now (a {@link ConfigError} if it is unusable);
 * a `jwksUrl` is fetched on first use and cached by jose (refetched when a token names an unknown kid).
 */
export function jwtScheme(config: JwtConfig, opts: JwtSchemeOptions = {}): AuthScheme {
  let keySet: JWTVerifyGetKey;
  let keySource: string;
  if (config.jwksFile !== undefined) {
    keySource = resolve(opts.baseDir ?? process.cwd(), config.jwksFile);
    keySet = createLocalJWKSet(readJwksFile(keySource));
  } else if (config.jwksUrl !== undefined) {
    keySource = config.jwksUrl;
    keySet = createRemoteJWKSet(new URL(config.jwksUrl));
  } else {
    throw new ConfigError('jwt needs exactly one of "jwksFile" and "jwksUrl"');
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      throw new KeySetUnavailable(err instanceof Error ? err.message : String(err));
    }
  };
  const clock = opts.clock ?? systemClock;
  const verifyOptions = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: [...JWT_ALGORITHMS],
    clockTolerance: config.clockToleranceSeconds,
    requiredClaims: ['exp', 'sub'],
  };

  return {
    expects: 'a bearer token in Authorization',
    presented: (headers: RequestHeaders) => BEARER.test(headers['authorization'] ?? ''),
    async authenticate(headers: RequestHeaders): Promise<Principal> {
      const match = BEARER_TOKEN.exec(headers['authorization'] ?? '');
      if (match === null) throw new UnauthorizedError('Authorization: Bearer needs exactly one token after it');
      let sub: unknown;
      try {
        ({
          payload: { sub },
        } = await jwtVerify(match[1], getKey, { ...verifyOptions, currentDate: new Date(clock.now()) }));
      } catch (err) {
        throw toHttpError(err, keySource);
      }
      if (typeof sub !== 'string' || sub === '' || sub.length > 256) {
        throw new UnauthorizedError('bearer token "sub" claim must be a non-empty string of at most 256 characters');
      }
      return { id: `jwt:${sub}`, kind: 'jwt', ...(config.plan !== undefined ? { plan: config.plan } : {}) };
    },
  };
}
