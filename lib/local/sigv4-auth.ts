/**
 * The IAM scheme: AWS Signature Version 4 for `execute-api`, checked the way API Gateway checks IAM
 * auth, against access keys from the server config instead of IAM. The signature is recomputed with
 * @smithy/signature-v4 (the signer the AWS SDKs use) over the request as received: method, path, query,
 * the headers the caller signed, and the sha256 of the body, then compared in constant time.
 *
 * The body is part of the signature, so the server reads it (within the body limit) before this scheme
 * runs ({@link AuthScheme.needsBody}). A signed `x-amz-content-sha256` must equal the body's sha256.
 *
 * Not supported locally: presigned URLs (query-string auth), temporary credentials (x-amz-security-token:
 * there is no STS to check them against), and signing with the `date` header instead of `x-amz-date`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '../protocol/errors';
import { systemClock, type Clock } from '../util/clock';
import type { AuthScheme, Principal, RequestHeaders, RequestTarget } from './auth';
import type { SigV4Config, SigV4CredentialConfig } from './config';

const PRESENTED = /^AWS4-HMAC-SHA256(?:\s|$)/;
const AUTHORIZATION = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([^,\s]+)\s*$/;
/** What an access key id may look like before it is looked up (and repeated in a message). */
const ACCESS_KEY_ID = /^[A-Z0-9]{1,128}$/;
const SCOPE_WORD = /^[a-z0-9-]{1,32}$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

export interface SigV4SchemeOptions {
  /** The server clock that x-amz-date is compared with. @default systemClock */
  readonly clock?: Clock;
}

interface Key {
  readonly credential: SigV4CredentialConfig;
  readonly signer: SignatureV4;
}

function refuse(message: string): UnauthorizedError {
  return new UnauthorizedError(message);
}

/** `20150830T123600Z` as a Date, or undefined when it is not one. */
function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.getUTCDate() === d && date.getUTCHours() === h ? date : undefined;
}

/** A raw query string as the record the signer canonicalizes: keys and values decoded, repeats as arrays. */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (raw === '') return query;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(eq === -1 ? part : part.slice(0, eq));
      value = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw refuse('the query string is not valid percent-encoding, so its SigV4 signature cannot be checked');
    }
    const prev = query[key];
    query[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return query;
}

/**
 * Builds the SigV4 scheme for the configured access keys. Requests must be signed for `config.region`
 * and `config.service` (execute-api), with an x-amz-date within `config.clockSkewSeconds` of the server clock.
 */
export function sigv4Scheme(config: SigV4Config, options: SigV4SchemeOptions = {}): AuthScheme {
  const clock = options.clock ?? systemClock;
  const keys = new Map<string, Key>();
  for (const credential of config.credentials) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
      region: config.region,
      service: config.service,
      sha256: Sha256,
      // Verify what the caller signed: x-amz-content-sha256 counts only when it is among its signed headers.
      applyChecksum: false,
    });
    keys.set(credential.accessKeyId, { credential, signer });
  }

  return {
    expects: 'an AWS SigV4 signature in Authorization',
    presented: (headers: RequestHeaders) => PRESENTED.test(headers['authorization'] ?? ''),
    needsBody: () => true,
    async authenticate(headers: RequestHeaders, request?: RequestTarget): Promise<Principal> {
      if (request === undefined) throw new Error('SigV4 verification needs the request method, path, query and body');
      const match = AUTHORIZATION.exec(headers['authorization'] ?? '');
      if (match === null) {
        throw refuse(
          'Authorization: AWS4-HMAC-SHA256 is malformed; expected Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=<headers>, Signature=<hex>',
        );
      }
      const [, credentialText, signedHeadersText, provided] = match as unknown as [string, string, string, string];

      const scope = credentialText.split('/');
      if (scope.length !== 5 || scope[4] !== 'aws4_request') {
        throw refuse('SigV4 credential is malformed; expected <access key id>/<yyyymmdd>/<region>/<service>/aws4_request');
      }
      const [accessKeyId, scopeDate, region, service] = scope as [string, string, string, string];
      if (!ACCESS_KEY_ID.test(accessKeyId)) throw refuse('SigV4 credential does not start with a valid access key id');
      const key = keys.get(accessKeyId);
      if (key === undefined) throw refuse(`SigV4 access key ${accessKeyId} is not known`);
      if (region !== config.region) {
        throw refuse(
          `SigV4 credential scope is for region ${SCOPE_WORD.test(region) ? `"${region}"` : '(invalid)'}; this API is in ${config.region}`,
        );
      }
      if (service !== config.service) {
        throw refuse(
          `SigV4 credential scope is for service ${SCOPE_WORD.test(service) ? `"${service}"` : '(invalid)'}; this API is ${config.service}`,
        );
      }

      const amzDate = headers['x-amz-date'] ?? '';
      const signingDate = parseAmzDate(amzDate);
      if (signingDate === undefined) throw refuse('SigV4 requests need an x-amz-date header such as 20260501T120000Z');
      if (scopeDate !== amzDate.slice(0, 8)) throw refuse('SigV4 credential scope date is not the date in x-amz-date');
      const skewSeconds = Math.abs(clock.now() - signingDate.getTime()) / 1000;
      if (skewSeconds > config.clockSkewSeconds) {
        throw refuse(
          `SigV4 signature is expired or not yet valid: x-amz-date is ${Math.round(skewSeconds)} s from the server clock (at most ${config.clockSkewSeconds} s)`,
        );
      }

      const signedHeaders = signedHeadersText.split(';');
      if (!signedHeaders.every((h) => HEADER_NAME.test(h)))
        throw refuse('SigV4 SignedHeaders must be lower-case header names separated by ";"');
      for (const required of ['host', 'x-amz-date']) {
        if (!signedHeaders.includes(required)) throw refuse(`SigV4 SignedHeaders must include ${required}`);
      }
      if (headers['x-amz-security-token'] !== undefined) {
        throw refuse(
          'temporary credentials (x-amz-security-token) cannot be checked by the local server; sign with a configured access key',
        );
      }
      const toSign: Record<string, string> = {};
      for (const name of signedHeaders) {
        const value = headers[name];
        if (value === undefined) throw refuse(`SigV4 signed header "${name}" is not in the request`);
        toSign[name] = value;
      }

      const body = request.body ?? new Uint8Array(0);
      const bodySha256 = createHash('sha256').update(body).digest('hex');
      const declared = headers['x-amz-content-sha256'];
      if (declared !== undefined && declared !== bodySha256) {
        throw refuse('x-amz-content-sha256 is not the sha256 of the body: the body was changed after signing');
      }

      const signed = await key.signer.sign(
        {
          method: request.method,
          protocol: 'http:',
          hostname: toSign.host,
          path: request.path,
          query: parseQuery(request.query),
          headers: toSign,
          body,
        },
        { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders) },
      );
      const expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers['authorization'] ?? '')?.[1] ?? '';
      const ok = SIGNATURE.test(provided) && expected.length === 64 && timingSafeEqual(Buffer.from(provided), Buffer.from(expected));
      if (!ok) {
        throw refuse('SigV4 signature does not match: check the secret access key, and that nothing was changed after signing');
      }
      if (!key.credential.enabled) throw new ForbiddenError(`SigV4 access key ${accessKeyId} is disabled`);
      return { id: `sigv4:${accessKeyId}`, kind: 'sigv4', plan: key.credential.plan };
    },
  };
}
