/**
 * The JWT TOKEN authorizer (lambda/jwt-authorizer.ts) with real tokens, signed by a key whose JWKS a
 * local HTTP server publishes, as an OIDC issuer would. A Lambda handler takes no clock, so jest fakes
 * Date alone (timers stay real, for the JWKS fetch): tokens are issued and checked at a fixed instant.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const ISSUER = 'https://issuer.example';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v2/models/tiny-mlp/infer';
type Handler = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
/** Wednesday 2024-01-10 12:00:00 UTC: what Date says in every test here. */
const NOW = Date.UTC(2024, 0, 10, 12);

beforeEach(() => {
  jest.useFakeTimers({
    now: NOW,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
});
afterEach(() => jest.useRealTimers());

let server: Server;
let jwksUri: string;
let jwksFile: string;
let privateKey: KeyLike;
let otherKey: KeyLike;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
  // The same keys as a file, as the hardened profile ships them in the authorizer's code.
  jwksFile = join(mkdtempSync(join(tmpdir(), 'modelship-jwks-')), 'jwks.json');
  writeFileSync(jwksFile, jwks);
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((done) => server.close(() => done())));

function load(env: Record<string, string | undefined>): { handler: Handler; stageWildcard: (arn: string) => string } {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let mod: { handler: Handler; stageWildcard: (arn: string) => string } | undefined;
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- isolateModules loads synchronously, so each test's environment is read at init
      mod = require('../../lambda/jwt-authorizer') as typeof mod;
    });
  } finally {
    process.env = saved;
  }
  return mod!;
}

function env(): Record<string, string> {
  return { JWT_ISSUER: ISSUER, JWT_AUDIENCE: JSON.stringify(['modelship', 'other-app']), JWKS_URI: jwksUri };
}

async function token(o: { key?: KeyLike; audience?: string; expiresIn?: number } = {}): Promise<string> {
  const now = NOW / 1000;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(o.audience ?? 'modelship')
    .setSubject('user-42')
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (o.expiresIn ?? 300))
    .sign(o.key ?? privateKey);
}

function event(authorizationToken: string): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken, methodArn: METHOD_ARN };
}

test('a valid token: Allow on every method of the stage, with the subject as principal', async () => {
  // GIVEN the authorizer configured for the issuer and two audiences
  const { handler } = load(env());
  // WHEN a token for one of the audiences arrives
  const result = await handler(event(`Bearer ${await token({ audience: 'other-app' })}`));
  // THEN it allows the whole stage (API Gateway caches the decision per token) for that subject
  expect(result).toEqual({
    principalId: 'jwt:user-42',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*' },
      ],
    },
    context: { principal: 'jwt:user-42' },
  });
});

test.each([
  ['another audience', () => token({ audience: 'someone-else' })],
  ['an expired token', () => token({ expiresIn: -10 })],
  ['a key the issuer does not publish', () => token({ key: otherKey })],
])('%s: Unauthorized (401)', async (_what, make) => {
  // GIVEN the authorizer  WHEN a token that fails one check arrives
  const { handler } = load(env());
  const bearer = `Bearer ${await make()}`;
  // THEN it throws the one message API Gateway turns into 401
  await expect(handler(event(bearer))).rejects.toThrow(/^Unauthorized$/);
});

test('a token that passes: Unauthorized once the clock reaches its exp', async () => {
  // GIVEN a token that expires in 300 s, accepted now
  const { handler } = load(env());
  const bearer = `Bearer ${await token({ expiresIn: 300 })}`;
  await expect(handler(event(bearer))).resolves.toMatchObject({ principalId: 'jwt:user-42' });
  // WHEN 299 s pass it is still accepted; WHEN 300 s have passed THEN 401
  jest.setSystemTime(NOW + 299_000);
  await expect(handler(event(bearer))).resolves.toMatchObject({ principalId: 'jwt:user-42' });
  jest.setSystemTime(NOW + 300_000);
  await expect(handler(event(bearer))).rejects.toThrow(/^Unauthorized$/);
});

test('no bearer scheme: Unauthorized', async () => {
  const { handler } = load(env());
  await expect(handler(event(await token()))).rejects.toThrow(/^Unauthorized$/);
});

test('configuration is read at init and a missing variable is named', () => {
  expect(() => load({ ...env(), JWKS_URI: undefined })).toThrow(/JWKS_URI is not set/);
  expect(() => load({ ...env(), JWT_AUDIENCE: '"modelship"' })).toThrow(/JWT_AUDIENCE must be a JSON array/);
});

test('with JWKS_FILE (the hardened profile: no route to the issuer) the keys come from the file, and no URL is needed', async () => {
  const { handler } = load({ ...env(), JWKS_URI: undefined, JWKS_FILE: jwksFile });
  const result = await handler(event(`Bearer ${await token()}`));
  expect(result.principalId).toBe('jwt:user-42');
  await expect(handler(event(`Bearer ${await token({ key: otherKey })}`))).rejects.toThrow(/^Unauthorized$/);
});
