/**
 * Authentication over HTTP against a running local server: API keys in x-api-key (missing, unknown,
 * disabled, valid) and bearer JWTs checked against a JWKS file (valid, expired, wrong issuer, wrong
 * audience, wrong signer). Errors are JSON, come before anything else is looked at, and never repeat
 * the secret that was presented, neither to the caller nor in the access log.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type KeyLike } from 'jose';
import { parseServerConfig } from '../../lib/local/config';
import type { AccessLogLine } from '../../lib/local/server';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { Manifest } from '../../lib/package/manifest';
import { ManualClock } from '../helpers/clock';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { errorMessage, send, type HttpAnswer } from '../helpers/http';

const ALICE_KEY = 'alice-secret-key-0123456789abcdef';
const DISABLED_KEY = 'disabled-secret-key-0123456789abcd';
const UNKNOWN_KEY = 'unknown-secret-key-0123456789abcde';
const ISSUER = 'https://issuer.test.example';
const AUDIENCE = 'modelship-api';
const KID = 'test-key-1';

let running: RunningServer;
let signingKey: KeyLike;
let strangerKey: KeyLike;
let goldenRequest: string;
let goldenOutputs: unknown;
const log: AccessLogLine[] = [];
/** Every secret a test presented, checked against the access log at the end. */
const presented: string[] = [ALICE_KEY, DISABLED_KEY, UNKNOWN_KEY];
/** The server's clock: tokens are issued at its time, so expiry never depends on the wall clock. */
const clock = new ManualClock();

interface Claims {
  readonly issuer?: string;
  readonly audience?: string;
  readonly subject?: string;
  /** Expiry in seconds from now; negative is in the past. */
  readonly expiresIn?: number;
  readonly key?: KeyLike;
}

async function token(c: Claims = {}): Promise<string> {
  const now = clock.nowSeconds();
  const jwt = await new SignJWT({ scope: 'infer' })
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .setIssuer(c.issuer ?? ISSUER)
    .setAudience(c.audience ?? AUDIENCE)
    .setSubject(c.subject ?? 'user-7')
    .setIssuedAt(now - 120)
    .setExpirationTime(now + (c.expiresIn ?? 300))
    .sign(c.key ?? signingKey);
  presented.push(jwt);
  return jwt;
}

function infer(headers: Record<string, string>): Promise<HttpAnswer> {
  return send(`${running.url}/v2/models/tiny-mlp/infer`, {
    headers: { 'content-type': 'application/json', ...headers },
    body: goldenRequest,
  });
}

/** The answer is `status` with a JSON error that is exactly `message` and does not contain `secret` or any large piece of it. */
function expectRefusal(r: HttpAnswer, status: number, message: string, secret: string): void {
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toBe('application/json');
  expect(r.json).toEqual({ error: message });
  const text = r.body.toString('utf8');
  const pieces = [secret, ...secret.split('.'), secret.slice(0, secret.length / 2), secret.slice(secret.length / 2)].filter(
    (p) => p.length >= 8,
  );
  for (const p of pieces) expect(text).not.toContain(p);
  for (const [name, value] of Object.entries(r.headers)) {
    for (const p of pieces) expect(`${name}: ${String(value)}`).not.toContain(p);
  }
}

beforeAll(async () => {
  const dir = tempDir('modelship-auth-');
  const pkg = await makeTinyMlpPackage(dir);
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'modelship.json'), 'utf8')) as Manifest;
  goldenRequest = readFileSync(join(pkg.dir, manifest.samples[0].request), 'utf8');
  goldenOutputs = (JSON.parse(readFileSync(join(pkg.dir, manifest.samples[0].response), 'utf8')) as { outputs: unknown }).outputs;

  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' }] }));

  running = await startServer({
    dirs: [pkg.dir],
    port: 0,
    clock,
    config: parseServerConfig({
      plans: { standard: { rateLimit: 1000, burstLimit: 1000 } },
      apiKeys: [
        { name: 'alice', value: ALICE_KEY, plan: 'standard' },
        { name: 'mallory', value: DISABLED_KEY, plan: 'standard', enabled: false },
      ],
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksFile, plan: 'standard' },
    }),
    onRequest: (l) => log.push(l),
  });
});

afterAll(() => running.close());

describe('API keys in x-api-key', () => {
  test('GIVEN no credentials WHEN infer is called THEN 401 saying what to send', async () => {
    const r = await infer({});
    expectRefusal(r, 401, 'missing credentials: send an API key in x-api-key or a bearer token in Authorization', ALICE_KEY);
  });

  test('GIVEN an empty x-api-key WHEN infer is called THEN 401 (an empty key is no key)', async () => {
    const r = await infer({ 'x-api-key': '' });
    expectRefusal(r, 401, 'missing credentials: send an API key in x-api-key or a bearer token in Authorization', ALICE_KEY);
  });

  test('GIVEN an unknown key WHEN infer is called THEN 401, and the key is not repeated', async () => {
    const r = await infer({ 'x-api-key': UNKNOWN_KEY });
    expectRefusal(r, 401, 'the API key in x-api-key is not valid', UNKNOWN_KEY);
  });

  test('GIVEN near misses of a valid key (case, one character more or less) WHEN infer is called THEN 401 (keys match exactly)', async () => {
    for (const variant of [ALICE_KEY.toUpperCase(), `${ALICE_KEY}x`, ALICE_KEY.slice(0, -1)]) {
      expectRefusal(await infer({ 'x-api-key': variant }), 401, 'the API key in x-api-key is not valid', variant);
    }
  });

  test('GIVEN a disabled key WHEN infer is called THEN 403 naming the key, never its value', async () => {
    const r = await infer({ 'x-api-key': DISABLED_KEY });
    expectRefusal(r, 403, 'API key "mallory" is disabled', DISABLED_KEY);
  });

  test('GIVEN a valid key WHEN infer is called THEN 200 with the golden outputs', async () => {
    const r = await infer({ 'x-api-key': ALICE_KEY });
    expect(r.status).toBe(200);
    expect((r.json as { outputs: unknown }).outputs).toEqual(goldenOutputs);
  });

  test('GIVEN no credentials WHEN an unknown model, a wrong method or an oversized body is sent THEN 401 first: nothing is revealed before auth', async () => {
    const answers = await Promise.all([
      send(`${running.url}/v2/models/secret-model/infer`, { body: '{}' }),
      send(`${running.url}/v2/models/tiny-mlp/infer`, { method: 'GET' }),
      send(`${running.url}/v2/models/tiny-mlp`),
      send(`${running.url}/v2/health/ready`),
      send(`${running.url}/v2/models/tiny-mlp/infer`, { body: Buffer.alloc(11 * 1024 * 1024, 0x20) }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(answers.every((a) => errorMessage(a)?.startsWith('missing credentials'))).toBe(true);
  });
});

describe('bearer JWTs checked against the JWKS file', () => {
  test('GIVEN a valid RS256 token WHEN infer is called THEN 200, and the log names the subject', async () => {
    const r = await infer({ authorization: `Bearer ${await token({ subject: 'user-42' })}` });
    expect(r.status).toBe(200);
    expect((r.json as { outputs: unknown }).outputs).toEqual(goldenOutputs);
    expect(log[log.length - 1]).toMatchObject({ status: 200, principal: 'jwt:user-42' });
  });

  test('GIVEN an expired token WHEN infer is called THEN 401 saying it expired', async () => {
    const jwt = await token({ expiresIn: -60 });
    expectRefusal(await infer({ authorization: `Bearer ${jwt}` }), 401, 'bearer token has expired ("exp")', jwt);
  });

  test('GIVEN a token that passes WHEN the server clock reaches its exp THEN the same token gets 401 expired', async () => {
    const jwt = await token({ expiresIn: 300, subject: 'user-42' });
    const issued = clock.now();
    try {
      expect((await infer({ authorization: `Bearer ${jwt}` })).status).toBe(200);
      clock.advance(300_000);
      expectRefusal(await infer({ authorization: `Bearer ${jwt}` }), 401, 'bearer token has expired ("exp")', jwt);
    } finally {
      clock.set(issued);
    }
  });

  test('GIVEN a token from another issuer WHEN infer is called THEN 401 naming the iss check', async () => {
    const jwt = await token({ issuer: 'https://evil.example' });
    expectRefusal(await infer({ authorization: `Bearer ${jwt}` }), 401, 'bearer token issuer ("iss") is not the expected one', jwt);
  });

  test('GIVEN a token for another audience WHEN infer is called THEN 401 naming the aud check', async () => {
    const jwt = await token({ audience: 'some-other-api' });
    expectRefusal(await infer({ authorization: `Bearer ${jwt}` }), 401, 'bearer token audience ("aud") is not an expected one', jwt);
  });

  test('GIVEN a token signed by a key that is not in the JWKS WHEN infer is called THEN 401', async () => {
    const jwt = await token({ key: strangerKey });
    expectRefusal(await infer({ authorization: `Bearer ${jwt}` }), 401, 'bearer token signature is invalid', jwt);
  });

  test('GIVEN an unsigned token (alg none) WHEN infer is called THEN 401', async () => {
    const now = clock.nowSeconds();
    const jwt = new UnsecuredJWT({})
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-7')
      .setExpirationTime(now + 300)
      .encode();
    presented.push(jwt);
    const r = await infer({ authorization: `Bearer ${jwt}` });
    expect(r.status).toBe(401);
    expect(errorMessage(r)).toMatch(/^bearer token/);
    expect(r.body.toString('utf8')).not.toContain(jwt.split('.')[1]);
  });

  test('GIVEN a valid token but an unknown API key as well WHEN infer is called THEN 401: every credential presented must be valid', async () => {
    const jwt = await token();
    const r = await infer({ authorization: `Bearer ${jwt}`, 'x-api-key': UNKNOWN_KEY });
    expectRefusal(r, 401, 'the API key in x-api-key is not valid', jwt);
    expect(r.body.toString('utf8')).not.toContain(UNKNOWN_KEY);
  });

  test('GIVEN a Basic credential WHEN infer is called THEN 401 naming the scheme, never the credential', async () => {
    const basic = Buffer.from(`alice:${ALICE_KEY}`).toString('base64');
    presented.push(basic);
    expectRefusal(
      await infer({ authorization: `Basic ${basic}` }),
      401,
      'unsupported Authorization scheme "Basic": send an API key in x-api-key or a bearer token in Authorization',
      basic,
    );
  });
});

test('GIVEN every request above WHEN the access log is read THEN no presented secret appears in it', () => {
  expect(log.length).toBeGreaterThanOrEqual(15);
  const text = JSON.stringify(log);
  for (const secret of presented) expect(text).not.toContain(secret);
  expect(new Set(log.map((l) => l.principal ?? '-'))).toEqual(new Set(['-', 'apiKey:alice', 'jwt:user-42']));
});
