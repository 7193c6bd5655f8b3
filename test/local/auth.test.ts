import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type KeyLike } from 'jose';
import { createAuthenticator, type AuthScheme, type Principal, type RequestHeaders } from '../../lib/local/auth';
import { ConfigError, type ServerConfig } from '../../lib/local/config';
import { ForbiddenError, ProtocolError, NotReadyError, UnauthorizedError } from '../../lib/protocol/errors';
import { ManualClock } from '../helpers/clock';

const ALICE_KEY = 'alice-key-0123456789abcdefghij';
const BOB_KEY = 'bob-key-0123456789abcdefghijklm';
const ISSUER = 'https://issuer.example';
const AUDIENCE = 'modelship';
/** The clock every authenticator here checks exp and nbf against; tokens are issued at its time. */
const clock = new ManualClock();

interface SigningKey {
  readonly privateKey: KeyLike;
  readonly jwk: JWK;
}

async function signingKey(alg: 'ES256' | 'RS256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

interface TokenOptions {
  readonly key: SigningKey;
  readonly issuer?: string;
  readonly audience?: string;
  readonly subject?: string | null;
  readonly expiresAt?: number | null;
  readonly notBefore?: number;
}

/** A token that passes every check unless an option says otherwise; null leaves the claim out. */
function token(o: TokenOptions): Promise<string> {
  const now = clock.nowSeconds();
  const jwt = new SignJWT({ scope: 'infer' })
    .setProtectedHeader({ alg: o.key.jwk.alg as string, kid: o.key.jwk.kid })
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? AUDIENCE)
    .setIssuedAt(now - 60);
  if (o.subject !== null) jwt.setSubject(o.subject ?? 'user-42');
  if (o.expiresAt !== null) jwt.setExpirationTime(o.expiresAt ?? now + 300);
  if (o.notBefore !== undefined) jwt.setNotBefore(o.notBefore);
  return jwt.sign(o.key.privateKey);
}

function baseConfig(jwt?: ServerConfig['jwt']): ServerConfig {
  return {
    plans: { basic: { rateLimit: 10, burstLimit: 20 }, pro: { rateLimit: 100, burstLimit: 200 } },
    apiKeys: [
      { name: 'alice', value: ALICE_KEY, plan: 'basic', enabled: true },
      { name: 'bob', value: BOB_KEY, plan: 'basic', enabled: false },
    ],
    ...(jwt ? { jwt } : {}),
    maxBodyBytes: 1024,
  };
}

const jwtSettings = (source: { jwksFile: string } | { jwksUrl: string }, extra: Partial<NonNullable<ServerConfig['jwt']>> = {}) => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  plan: 'pro',
  clockToleranceSeconds: 0,
  ...source,
  ...extra,
});

/** Runs authenticate() and returns what it threw, failing the test when it succeeded. */
async function failure(promise: Promise<Principal>): Promise<ProtocolError> {
  let principal: Principal;
  try {
    principal = await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error(`expected a failure, got principal ${principal.id}`);
}

const bearer = (t: string): RequestHeaders => ({ authorization: `Bearer ${t}` });

let dir: string;
let es: SigningKey;
let rs: SigningKey;
let impostor: SigningKey; // same kid as `es`, different key
let stranger: SigningKey; // a kid the JWKS does not have

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelship-auth-'));
  [es, rs, impostor, stranger] = await Promise.all([
    signingKey('ES256', 'es-1'),
    signingKey('RS256', 'rs-1'),
    signingKey('ES256', 'es-1'),
    signingKey('ES256', 'unknown-kid'),
  ]);
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [es.jwk, rs.jwk] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('API keys', () => {
  const auth = () => createAuthenticator(baseConfig());

  test('GIVEN no credentials WHEN authenticating THEN 401 says what to send', async () => {
    const err = await failure(auth().authenticate({}));
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err.status).toBe(401);
    expect(err.message).toBe('missing credentials: send an API key in x-api-key');
  });

  test('GIVEN an empty x-api-key WHEN authenticating THEN it counts as missing', async () => {
    expect((await failure(auth().authenticate({ 'x-api-key': '' }))).message).toMatch(/^missing credentials/);
  });

  test('GIVEN an unknown key WHEN authenticating THEN 401 without echoing the key', async () => {
    const guess = 'not-a-key-0123456789abcdefghij';
    const err = await failure(auth().authenticate({ 'x-api-key': guess }));
    expect(err.status).toBe(401);
    expect(err.message).toBe('the API key in x-api-key is not valid');
  });

  test('GIVEN a valid key in another case or with a suffix WHEN authenticating THEN 401: keys match exactly', async () => {
    expect((await failure(auth().authenticate({ 'x-api-key': ALICE_KEY.toUpperCase() }))).status).toBe(401);
    expect((await failure(auth().authenticate({ 'x-api-key': `${ALICE_KEY}x` }))).status).toBe(401);
    expect((await failure(auth().authenticate({ 'x-api-key': ALICE_KEY.slice(0, -1) }))).status).toBe(401);
  });

  test('GIVEN a disabled key WHEN authenticating THEN 403 naming the key, not its value', async () => {
    const err = await failure(auth().authenticate({ 'x-api-key': BOB_KEY }));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.status).toBe(403);
    expect(err.message).toBe('API key "bob" is disabled');
  });

  test('GIVEN a valid key WHEN authenticating THEN the principal is named after the key, with its plan', async () => {
    const principal = await auth().authenticate({ 'x-api-key': ALICE_KEY });
    expect(principal).toEqual({ id: 'apiKey:alice', kind: 'apiKey', plan: 'basic' });
    expect(JSON.stringify(principal)).not.toContain(ALICE_KEY);
  });

  test('GIVEN a bearer token but no jwt config WHEN authenticating THEN 401 says the scheme is not supported', async () => {
    const err = await failure(auth().authenticate(bearer('abc')));
    expect(err.status).toBe(401);
    expect(err.message).toBe('unsupported Authorization scheme "Bearer": send an API key in x-api-key');
  });
});

describe('bearer JWT with a JWKS file', () => {
  const auth = (extra: Partial<NonNullable<ServerConfig['jwt']>> = {}) =>
    createAuthenticator(baseConfig(jwtSettings({ jwksFile: 'jwks.json' }, extra)), { baseDir: dir, clock });

  test('GIVEN no credentials and jwt configured WHEN authenticating THEN 401 names both ways in', async () => {
    expect((await failure(auth().authenticate({}))).message).toBe(
      'missing credentials: send an API key in x-api-key or a bearer token in Authorization',
    );
  });

  test('GIVEN a valid ES256 token WHEN authenticating THEN the principal is jwt:<sub> on the jwt plan', async () => {
    expect(await auth().authenticate(bearer(await token({ key: es })))).toEqual({ id: 'jwt:user-42', kind: 'jwt', plan: 'pro' });
  });

  test('GIVEN a valid RS256 token and a lower-case scheme WHEN authenticating THEN it passes', async () => {
    const principal = await auth().authenticate({ authorization: `bearer ${await token({ key: rs, subject: 'svc' })}` });
    expect(principal.id).toBe('jwt:svc');
  });

  test('GIVEN jwt without a plan WHEN authenticating THEN the principal has no plan', async () => {
    const principal = await createAuthenticator(
      baseConfig({ issuer: ISSUER, audience: AUDIENCE, jwksFile: join(dir, 'jwks.json'), clockToleranceSeconds: 0 }),
      { clock },
    ).authenticate(bearer(await token({ key: es })));
    expect(principal).toEqual({ id: 'jwt:user-42', kind: 'jwt' });
  });

  test('GIVEN an expired token WHEN authenticating THEN 401 says it expired, without echoing it', async () => {
    const t = await token({ key: es, expiresAt: clock.nowSeconds() - 10 });
    const err = await failure(auth().authenticate(bearer(t)));
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err.message).toBe('bearer token has expired ("exp")');
    expect(err.message).not.toContain(t.split('.')[1]);
  });

  test('GIVEN a token expired 10 s ago and a 30 s clock tolerance WHEN authenticating THEN it passes', async () => {
    const t = await token({ key: es, expiresAt: clock.nowSeconds() - 10 });
    expect((await auth({ clockToleranceSeconds: 30 }).authenticate(bearer(t))).id).toBe('jwt:user-42');
  });

  test('GIVEN a token with exp in 300 s WHEN the clock reaches exp - 1 s THEN it passes; at exp THEN 401 expired', async () => {
    const t = await token({ key: es, expiresAt: clock.nowSeconds() + 300 });
    const authAt = (seconds: number) =>
      createAuthenticator(baseConfig(jwtSettings({ jwksFile: 'jwks.json' })), {
        baseDir: dir,
        clock: new ManualClock(clock.now() + seconds * 1000),
      }).authenticate(bearer(t));
    expect((await authAt(0)).id).toBe('jwt:user-42');
    expect((await authAt(299)).id).toBe('jwt:user-42');
    expect((await failure(authAt(300))).message).toBe('bearer token has expired ("exp")');
  });

  test('GIVEN a token not valid for another hour WHEN authenticating THEN 401 names nbf; an hour later it passes', async () => {
    const t = await token({ key: es, notBefore: clock.nowSeconds() + 3600, expiresAt: clock.nowSeconds() + 7200 });
    expect((await failure(auth().authenticate(bearer(t)))).message).toBe('bearer token is not valid yet ("nbf")');
    const later = createAuthenticator(baseConfig(jwtSettings({ jwksFile: 'jwks.json' })), {
      baseDir: dir,
      clock: new ManualClock(clock.now() + 3_600_000),
    });
    expect((await later.authenticate(bearer(t))).id).toBe('jwt:user-42');
  });

  test('GIVEN a token from another issuer WHEN authenticating THEN 401 names the issuer check', async () => {
    const err = await failure(auth().authenticate(bearer(await token({ key: es, issuer: 'https://evil.example' }))));
    expect(err.status).toBe(401);
    expect(err.message).toBe('bearer token issuer ("iss") is not the expected one');
  });

  test('GIVEN a token for another audience WHEN authenticating THEN 401 names the audience check', async () => {
    const err = await failure(auth().authenticate(bearer(await token({ key: es, audience: 'someone-else' }))));
    expect(err.status).toBe(401);
    expect(err.message).toBe('bearer token audience ("aud") is not an expected one');
  });

  test('GIVEN a list of audiences WHEN a token names the second THEN it passes', async () => {
    const t = await token({ key: es, audience: 'second' });
    expect((await auth({ audience: ['first', 'second'] }).authenticate(bearer(t))).id).toBe('jwt:user-42');
  });

  test('GIVEN a token signed by another key under a trusted kid WHEN authenticating THEN 401 says the signature is invalid', async () => {
    expect((await failure(auth().authenticate(bearer(await token({ key: impostor }))))).message).toBe('bearer token signature is invalid');
  });

  test('GIVEN a token whose kid is not in the JWKS WHEN authenticating THEN 401 says no trusted key matches', async () => {
    expect((await failure(auth().authenticate(bearer(await token({ key: stranger }))))).message).toBe(
      'bearer token is not signed by a trusted key: no key in the JWKS matches it',
    );
  });

  test('GIVEN an unsigned alg:none token WHEN authenticating THEN 401 says the algorithm is not allowed', async () => {
    const unsigned = new UnsecuredJWT({})
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('admin')
      .setExpirationTime(clock.nowSeconds() + 300)
      .encode();
    const err = await failure(auth().authenticate(bearer(unsigned)));
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/^bearer token algorithm is not allowed; expected one of RS256, /);
  });

  test('GIVEN an HS256 token keyed with the public JWK (key confusion) WHEN authenticating THEN 401, algorithm not allowed', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(es.jwk));
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'es-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('admin')
      .setExpirationTime(clock.nowSeconds() + 300)
      .sign(secret);
    expect((await failure(auth().authenticate(bearer(hs)))).message).toMatch(/^bearer token algorithm is not allowed/);
  });

  test('GIVEN a token without sub or without exp WHEN authenticating THEN 401 names the missing claim', async () => {
    expect((await failure(auth().authenticate(bearer(await token({ key: es, subject: null }))))).message).toBe(
      'bearer token lacks the required "sub" claim',
    );
    expect((await failure(auth().authenticate(bearer(await token({ key: es, expiresAt: null }))))).message).toBe(
      'bearer token lacks the required "exp" claim',
    );
  });

  test('GIVEN garbage or nothing after Bearer WHEN authenticating THEN 401', async () => {
    expect((await failure(auth().authenticate(bearer('not.a-jwt')))).message).toBe(
      'bearer token is malformed: expected a signed JWT (header.payload.signature)',
    );
    expect((await failure(auth().authenticate({ authorization: 'Bearer' }))).message).toBe(
      'Authorization: Bearer needs exactly one token after it',
    );
    expect((await failure(auth().authenticate({ authorization: 'Bearer a b' }))).status).toBe(401);
  });

  test('GIVEN Basic credentials WHEN authenticating THEN 401 names the unsupported scheme but not the credentials', async () => {
    const err = await failure(auth().authenticate({ authorization: 'Basic YWxpY2U6c2VjcmV0' }));
    expect(err.message).toBe('unsupported Authorization scheme "Basic": send an API key in x-api-key or a bearer token in Authorization');
  });

  test('GIVEN a valid API key and a forged token together WHEN authenticating THEN 401: every credential sent must be valid', async () => {
    const headers = { 'x-api-key': ALICE_KEY, authorization: `Bearer ${await token({ key: impostor })}` };
    expect((await failure(auth().authenticate(headers))).message).toBe('bearer token signature is invalid');
  });

  test('GIVEN a valid API key and a valid token together WHEN authenticating THEN the API key principal wins', async () => {
    const headers = { 'x-api-key': ALICE_KEY, authorization: `Bearer ${await token({ key: es })}` };
    expect((await auth().authenticate(headers)).id).toBe('apiKey:alice');
  });

  test('GIVEN a missing JWKS file WHEN building the authenticator THEN a ConfigError names the file', () => {
    expect(() => auth({ jwksFile: 'absent.json' })).toThrow(ConfigError);
    expect(() => auth({ jwksFile: 'absent.json' })).toThrow(join(dir, 'absent.json'));
  });

  test('GIVEN a JWKS file holding a private key WHEN building the authenticator THEN a ConfigError refuses it', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    writeFileSync(join(dir, 'private.json'), JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    expect(() => auth({ jwksFile: 'private.json' })).toThrow('holds private or symmetric key material');
  });

  test('GIVEN a JSON file that is not a JWKS WHEN building the authenticator THEN a ConfigError says so', () => {
    writeFileSync(join(dir, 'not-jwks.json'), JSON.stringify({ kty: 'EC' }));
    expect(() => auth({ jwksFile: 'not-jwks.json' })).toThrow('is not a JWKS');
  });
});

describe('bearer JWT with a JWKS URL', () => {
  let server: Server;
  let status = 200;
  let fetches = 0;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      fetches++;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [es.jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    status = 200;
    fetches = 0;
  });

  const auth = () => createAuthenticator(baseConfig(jwtSettings({ jwksUrl: url })), { clock });

  test('GIVEN a served JWKS WHEN two valid tokens arrive THEN both pass and the JWKS is fetched once', async () => {
    const a = auth();
    expect(await a.authenticate(bearer(await token({ key: es, subject: 'first' })))).toEqual({
      id: 'jwt:first',
      kind: 'jwt',
      plan: 'pro',
    });
    expect((await a.authenticate(bearer(await token({ key: es, subject: 'second' })))).id).toBe('jwt:second');
    expect(fetches).toBe(1);
  });

  test('GIVEN a served JWKS WHEN a token signed by another key arrives THEN 401', async () => {
    const err = await failure(auth().authenticate(bearer(await token({ key: impostor }))));
    expect(err.status).toBe(401);
    expect(err.message).toBe('bearer token signature is invalid');
  });

  test('GIVEN the JWKS URL answers 500 WHEN a token arrives THEN 503 names the URL: the server, not the caller, is at fault', async () => {
    status = 500;
    const err = await failure(auth().authenticate(bearer(await token({ key: es }))));
    expect(err).toBeInstanceOf(NotReadyError);
    expect(err.status).toBe(503);
    expect(err.message).toContain(`cannot get the JWT signing keys from ${url}`);
  });
});

describe('extension point', () => {
  test('GIVEN an extra scheme WHEN its credential is sent THEN it authenticates and is listed in the missing-credentials message', async () => {
    const sigv4: AuthScheme = {
      expects: 'a SigV4 signature',
      presented: (h) => (h['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 '),
      authenticate: () => Promise.resolve({ id: 'iam:arn:aws:iam::123456789012:user/ci', kind: 'apiKey' }),
    };
    const auth = createAuthenticator(baseConfig(), { extraSchemes: [sigv4] });

    expect((await auth.authenticate({ authorization: 'AWS4-HMAC-SHA256 Credential=x' })).id).toBe('iam:arn:aws:iam::123456789012:user/ci');
    expect((await failure(auth.authenticate({}))).message).toBe('missing credentials: send an API key in x-api-key or a SigV4 signature');
  });
});
