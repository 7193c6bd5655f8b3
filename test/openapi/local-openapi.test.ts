/**
 * GET /openapi.json on a running local server: authenticated like the API, valid OpenAPI 3.1 by a real
 * validator, with each model's real input and output names and shapes, the security schemes the config
 * takes, and schemas that the server's own answers match (and that refuse what the server refuses).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { makeAllTypesPackage, makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { send } from '../helpers/http';
import { expectMatches, matches, validateOpenApi, type Document } from './helpers';

const KEY = 'openapi-test-key-0123456789abcdef';
const MNIST = join(__dirname, '..', '..', 'models', 'mnist-mlp');
const auth = { 'x-api-key': KEY };

let running: RunningServer;
let doc: Document;
let tinyDir: string;

beforeAll(async () => {
  const dir = tempDir();
  const tiny = await makeTinyMlpPackage(dir, { extras: { labels: ['a', 'b', 'c'], description: 'a tiny MLP' } });
  tinyDir = tiny.dir;
  const allTypes = await makeAllTypesPackage(dir);
  const pair = await generateKeyPair('RS256');
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }] }));
  running = await startServer({
    dirs: [tiny.dir, allTypes.dir, MNIST, join(dir, 'missing-package')],
    port: 0,
    page: false,
    config: parseServerConfig({
      plans: { p: { rateLimit: 1000, burstLimit: 1000 } },
      apiKeys: [{ name: 'tester', value: KEY, plan: 'p' }],
      jwt: { issuer: 'https://issuer.test.example', audience: ['modelship-api'], jwksFile },
      sigv4: {
        region: 'eu-west-1',
        credentials: [{ accessKeyId: 'AKIAOPENAPITEST00001', secretAccessKey: 'openapi-secret-0123456789', plan: 'p' }],
      },
      maxBodyBytes: 123456,
    }),
  });
  const answer = await send(`${running.url}/openapi.json`, { headers: auth });
  expect(answer.status).toBe(200);
  doc = answer.json as Document;
});
afterAll(async () => running?.close());

test('it needs the same credentials as the API, and says nothing of the models without them', async () => {
  const anonymous = await send(`${running.url}/openapi.json`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.toString()).not.toMatch(/tiny-mlp|all-types|mnist/);
  const wrong = await send(`${running.url}/openapi.json`, { headers: { 'x-api-key': 'wrong-key-0123456789abcdefgh' } });
  expect(wrong.status).toBe(401);
  expect((await send(`${running.url}/openapi.json`, { method: 'POST', headers: auth, body: '{}' })).status).toBe(405);
});

test('a real OpenAPI 3.1 validator accepts the document', async () => {
  expect(doc.openapi).toBe('3.1.0');
  await validateOpenApi(doc);
});

test('the validator is not a rubber stamp: a broken document is refused', async () => {
  const broken = structuredClone(doc);
  (broken.paths['/v2/models/tiny-mlp/infer'].post.responses as Record<string, unknown>)['200'] = { content: {} };
  await expect(validateOpenApi(broken)).rejects.toThrow();
});

test('each served model has its routes, named inputs and shapes; the refused one has none', () => {
  for (const name of ['tiny-mlp', 'all-types', 'mnist-mlp']) {
    for (const suffix of ['', '/ready', '/infer', '/versions/{version}', '/versions/{version}/ready', '/versions/{version}/infer']) {
      expect(doc.paths).toHaveProperty([`/v2/models/${name}${suffix}`]);
    }
  }
  expect(Object.keys(doc.paths).filter((p) => p.includes('missing-package'))).toEqual([]);
  expect(doc.paths).toHaveProperty(['/v2/repository/index']);
  const input = (doc.components.schemas['InferRequest.mnist-mlp'].properties as Record<string, Record<string, unknown>>).inputs;
  expect(input).toMatchObject({ minItems: 1, maxItems: 1 });
  const item = input.items as { properties: Record<string, Record<string, unknown>> };
  expect(item.properties.name).toMatchObject({ const: 'input' });
  expect(item.properties.datatype).toMatchObject({ const: 'FP32' });
  expect(item.properties.shape).toMatchObject({ prefixItems: [{ type: 'integer', minimum: 0 }, { const: 784 }] });
  // The golden sample is the request's example, as recorded.
  const examples = (
    doc.paths['/v2/models/mnist-mlp/infer'].post.requestBody as {
      content: Record<string, { examples: Record<string, { value: unknown }> }>;
    }
  ).content['application/json'].examples;
  expect(examples.golden0.value).toEqual(JSON.parse(readFileSync(join(MNIST, 'samples', '0.request.json'), 'utf8')));
});

test('the security schemes are the configured ones, and the 413 names the body limit', () => {
  expect(doc.security).toEqual([{ apiKey: [] }, { bearerJwt: [] }, { sigv4: [] }]);
  expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
  expect(doc.components.securitySchemes.bearerJwt).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  expect(doc.components.securitySchemes.bearerJwt.description).toMatch(/https:\/\/issuer\.test\.example.*modelship-api/);
  expect(doc.components.securitySchemes.sigv4).toMatchObject({ 'x-amazon-apigateway-authtype': 'awsSigv4' });
  expect(doc.components.securitySchemes.sigv4.description).toMatch(/eu-west-1/);
  expect(JSON.stringify(doc)).not.toContain('openapi-secret');
  expect(
    (doc.components as unknown as { responses: Record<string, { description: string }> }).responses.PayloadTooLarge.description,
  ).toMatch(/123456 bytes/);
});

test("the server's own answers match the schemas the document gives for them", async () => {
  const get = async (path: string) => (await send(`${running.url}${path}`, { headers: auth })).json;
  expectMatches(doc, 'ServerMetadata', await get('/v2'));
  expectMatches(doc, 'Live', await get('/v2/health/live'));
  expectMatches(doc, 'ModelMetadata', await get('/v2/models/tiny-mlp'));
  expectMatches(doc, 'ModelReady', await get('/v2/models/tiny-mlp/ready'));
  expectMatches(doc, 'ErrorBody', await get('/v2/health/ready'));
  expectMatches(doc, 'ErrorBody', await get('/v2/models/nope'));
  const index = await send(`${running.url}/v2/repository/index`, { headers: auth, body: '', method: 'POST' });
  expectMatches(doc, 'RepositoryIndex', index.json);
  expect(JSON.stringify(index.json)).toMatch(/UNAVAILABLE/);

  for (const [name, dir] of [
    ['tiny-mlp', tinyDir],
    ['mnist-mlp', MNIST],
  ] as const) {
    const golden = readFileSync(join(dir, 'samples', '0.request.json'), 'utf8');
    expectMatches(doc, `InferRequest.${name}`, JSON.parse(golden));
    const answer = await send(`${running.url}/v2/models/${name}/infer`, {
      headers: { ...auth, 'content-type': 'application/json' },
      body: golden,
    });
    expect(answer.status).toBe(200);
    expectMatches(doc, `InferResponse.${name}`, answer.json);
  }
});

test('every datatype: a request of each matches, and the answer matches the response schema', async () => {
  const golden = readFileSync(join(running.router.engines().find((e) => e.name === 'all-types')!.dir, 'samples', '0.request.json'), 'utf8');
  const request = JSON.parse(golden) as { inputs: Array<{ name: string; datatype: string; data: unknown[] }> };
  expectMatches(doc, 'InferRequest.all-types', request);
  const answer = await send(`${running.url}/v2/models/all-types/infer`, {
    headers: { ...auth, 'content-type': 'application/json' },
    body: golden,
  });
  expect(answer.status).toBe(200);
  expectMatches(doc, 'InferResponse.all-types', answer.json);
});

test('the request schema refuses what the server refuses: a wrong name, datatype, shape or element', async () => {
  const golden = JSON.parse(readFileSync(join(tinyDir, 'samples', '0.request.json'), 'utf8')) as { inputs: Array<Record<string, unknown>> };
  const edited = (change: Record<string, unknown>) => ({ ...golden, inputs: [{ ...golden.inputs[0], ...change }] });
  expect(matches(doc, 'InferRequest.tiny-mlp', golden)).toBe(true);
  for (const bad of [
    edited({ name: 'y' }),
    edited({ datatype: 'FP64' }),
    edited({ shape: [1, 5] }),
    edited({ data: ['a', 'b', 'c', 'd'] }),
    { inputs: [] },
  ]) {
    expect(matches(doc, 'InferRequest.tiny-mlp', bad)).toBe(false);
    const answer = await send(`${running.url}/v2/models/tiny-mlp/infer`, {
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(bad),
    });
    expect(answer.status).toBe(400);
  }
  // UINT8 elements are bounded as the decoder bounds them; INT64 ones are not held to 2^53.
  const all = doc.components.schemas['InferRequest.all-types'];
  const text = JSON.stringify(all);
  expect(text).toContain('"maximum":255');
  expect(text).toContain('"format":"int64"');
});
