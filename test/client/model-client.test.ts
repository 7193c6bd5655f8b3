/**
 * ModelClient against the real local server (startServer) with every auth mode configured at once: an API
 * key, bearer JWTs checked against a JWKS, and SigV4 access keys. Also the binary protocol against JSON on
 * the mnist golden sample, retry on 429 honouring Retry-After, no retries on other 4xx,
 * metadata and readiness, and inputs refused before anything is sent.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { AuthError, HttpError, ModelClient, parseRequestBody, RateLimitedError, type ModelClientOptions } from '../../lib/client';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { Tensor } from '../../lib/protocol/types';
import { ManualClock } from '../helpers/clock';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

const MNIST = join(__dirname, '..', '..', 'models', 'mnist-mlp');
const API_KEY = 'client-test-api-key-0123456789abcdef';
const TIGHT_KEY_A = 'client-tight-key-a-0123456789abcdefgh';
const TIGHT_KEY_B = 'client-tight-key-b-0123456789abcdefgh';
const ACCESS_KEY_ID = 'AKIACLIENTTEST000001';
const SECRET = 'client-test-secret-0123456789abcdefghijk';
const ISSUER = 'https://issuer.client.test';
const AUDIENCE = 'modelship-client';

let running: RunningServer;
/**
 * The one clock of the server and the clients: tokens are issued and requests signed at its time, and a
 * client's retry wait moves it, so a Retry-After waited out is exactly what the server's bucket refills.
 */
const clock = new ManualClock();
let signingKey: KeyLike;
let sample: ReturnType<typeof parseRequestBody>;
let golden: { outputs: Array<{ name: string; shape: number[]; data: number[] }> };

/** fetch, recording what went out and what came back. */
interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly requestHeaders: Record<string, string>;
  readonly status: number;
  readonly responseHeaders: Record<string, string>;
}

function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((v, k) => (responseHeaders[k] = v));
    log.push({
      method: init?.method ?? 'GET',
      url: input instanceof Request ? input.url : input.toString(),
      requestHeaders: { ...(init?.headers as Record<string, string>) },
      status: response.status,
      responseHeaders,
    });
    return response;
  };
}

function client(options: Partial<ModelClientOptions> = {}): ModelClient {
  return new ModelClient({
    baseUrl: running.url,
    auth: { apiKey: API_KEY },
    retries: { max: 0 },
    clock,
    sleep: clock.sleeper(),
    ...options,
  });
}

async function jwt(expiresIn = 300): Promise<string> {
  const now = clock.nowSeconds();
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('user-1')
    .setIssuedAt(now - 60)
    .setExpirationTime(now + expiresIn)
    .sign(signingKey);
}

beforeAll(async () => {
  const dir = tempDir('modelship-client-');
  const tiny = await makeTinyMlpPackage(dir);
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }));
  sample = parseRequestBody(readFileSync(join(MNIST, 'samples/0.request.json'), 'utf8'));
  golden = JSON.parse(readFileSync(join(MNIST, 'samples/0.response.json'), 'utf8')) as typeof golden;
  running = await startServer({
    dirs: [MNIST, tiny.dir],
    port: 0,
    clock,
    config: parseServerConfig({
      plans: { standard: { rateLimit: 1000, burstLimit: 1000 }, tight: { rateLimit: 1, burstLimit: 1 } },
      apiKeys: [
        { name: 'main', value: API_KEY, plan: 'standard' },
        { name: 'tight-a', value: TIGHT_KEY_A, plan: 'tight' },
        { name: 'tight-b', value: TIGHT_KEY_B, plan: 'tight' },
      ],
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksFile, plan: 'standard' },
      sigv4: { region: 'eu-west-1', credentials: [{ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, plan: 'standard' }] },
    }),
  });
});

afterAll(() => running.close());

function expectGolden(outputs: readonly Tensor[]): void {
  expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([['probabilities', 'FP32', [3, 10]]]);
  expect(golden.outputs[0].shape).toEqual([3, 10]);
  const actual = Array.from(outputs[0].data as Float32Array);
  golden.outputs[0].data.forEach((expected, i) =>
    expect(Math.abs(actual[i] - expected)).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(expected)),
  );
}

describe('auth modes', () => {
  test('GIVEN an API key WHEN the mnist golden sample is inferred THEN the recorded probabilities, and x-api-key was sent', async () => {
    const log: Exchange[] = [];
    const r = await client({ fetch: recordingFetch(log) }).infer('mnist-mlp', sample.inputs);
    expect(r.modelName).toBe('mnist-mlp');
    expect(r.modelVersion).toBe('1.0.0');
    expectGolden(r.outputs);
    expect(log.map((e) => [e.method, new URL(e.url).pathname, e.requestHeaders['x-api-key']])).toEqual([
      ['POST', '/v2/models/mnist-mlp/infer', API_KEY],
    ]);
  });

  test('GIVEN SigV4 with the right secret WHEN inferred THEN 200 and the golden outputs', async () => {
    const c = client({ auth: { sigv4: { region: 'eu-west-1', credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET } } } });
    expectGolden((await c.infer('mnist-mlp', sample.inputs)).outputs);
  });

  test('GIVEN SigV4 credentials from a provider WHEN inferred with the binary protocol THEN 200 (the binary body is signed too)', async () => {
    const provider = () => Promise.resolve({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET });
    const c = client({ protocol: 'binary', auth: { sigv4: { region: 'eu-west-1', credentials: provider } } });
    expectGolden((await c.infer('mnist-mlp', sample.inputs)).outputs);
  });

  test('GIVEN SigV4 with a wrong secret WHEN inferred THEN AuthError 401 with the server message, after 1 attempt (never retried)', async () => {
    const log: Exchange[] = [];
    const c = client({
      fetch: recordingFetch(log),
      retries: { max: 3 },
      auth: {
        sigv4: {
          region: 'eu-west-1',
          credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'wrong-secret-0123456789abcdefghijklmno' },
        },
      },
    });

    const err = await c.infer('mnist-mlp', sample.inputs).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({
      status: 401,
      attempts: 1,
      serverMessage: 'SigV4 signature does not match: check the secret access key, and that nothing was changed after signing',
    });
    expect((err as Error).message).toBe(
      'POST /v2/models/mnist-mlp/infer answered 401: SigV4 signature does not match: check the secret access key, and that nothing was changed after signing',
    );
    expect(log).toHaveLength(1);
  });

  test("GIVEN a client clock 301 s behind the server's WHEN inferred with SigV4 THEN AuthError: the request is signed at the client's time", async () => {
    const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET };
    const behind = (ms: number) =>
      client({ clock: new ManualClock(clock.now() - ms), auth: { sigv4: { region: 'eu-west-1', credentials } } });
    expectGolden((await behind(300_000).infer('mnist-mlp', sample.inputs)).outputs);
    await expect(behind(301_000).infer('mnist-mlp', sample.inputs)).rejects.toMatchObject({
      status: 401,
      serverMessage: 'SigV4 signature is expired or not yet valid: x-amz-date is 301 s from the server clock (at most 300 s)',
    });
  });

  test('GIVEN SigV4 signed for another region WHEN inferred THEN AuthError naming the region', async () => {
    const c = client({ auth: { sigv4: { region: 'us-east-1', credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET } } } });
    await expect(c.infer('mnist-mlp', sample.inputs)).rejects.toMatchObject({
      status: 401,
      serverMessage: 'SigV4 credential scope is for region "us-east-1"; this API is in eu-west-1',
    });
  });

  test('GIVEN a bearer JWT, as a string and from a function WHEN inferred THEN 200 both ways', async () => {
    expectGolden((await client({ auth: { bearer: await jwt() } }).infer('mnist-mlp', sample.inputs)).outputs);
    let calls = 0;
    const fresh = client({
      auth: {
        bearer: async () => {
          calls++;
          return jwt();
        },
      },
    });
    expectGolden((await fresh.infer('mnist-mlp', sample.inputs)).outputs);
    expect(calls).toBe(1);
  });

  test('GIVEN an expired bearer token WHEN inferred THEN AuthError 401 saying so', async () => {
    await expect(client({ auth: { bearer: await jwt(-10) } }).infer('mnist-mlp', sample.inputs)).rejects.toThrow(
      new AuthError('POST /v2/models/mnist-mlp/infer answered 401: bearer token has expired ("exp")', 401, undefined, {}, 1),
    );
  });

  test('GIVEN no auth WHEN inferred THEN AuthError listing what the server accepts', async () => {
    const err = await new ModelClient({ baseUrl: running.url, retries: { max: 0 } })
      .infer('mnist-mlp', sample.inputs)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).serverMessage).toBe(
      'missing credentials: send an API key in x-api-key or a bearer token in Authorization or an AWS SigV4 signature in Authorization',
    );
  });
});

describe('protocols', () => {
  test('GIVEN the mnist golden sample (3 images) WHEN inferred as binary and as JSON THEN the outputs are bit-identical, and binary really went both ways', async () => {
    const log: Exchange[] = [];
    const json = await client().infer('mnist-mlp', sample.inputs);
    const binary = await client({ protocol: 'binary', fetch: recordingFetch(log) }).infer('mnist-mlp', sample.inputs);

    expect(binary.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual(json.outputs.map((o) => [o.name, o.datatype, o.shape]));
    expect(binary.output('probabilities').data).toBeInstanceOf(Float32Array);
    expect(
      Buffer.from((binary.output('probabilities').data as Float32Array).buffer).equals(
        Buffer.from((json.output('probabilities').data as Float32Array).buffer),
      ),
    ).toBe(true);
    expectGolden(binary.outputs);
    expect(log[0].requestHeaders['content-type']).toBe('application/octet-stream');
    expect(log[0].requestHeaders['inference-header-content-length']).toMatch(/^\d+$/);
    expect(log[0].responseHeaders['inference-header-content-length']).toMatch(/^\d+$/);
  });

  test('GIVEN inputs as a record of typed arrays, an id and one output WHEN inferred THEN the id comes back and output() finds it', async () => {
    const pixels = sample.inputs[0].data as Float32Array;
    const r = await client().infer(
      'mnist-mlp',
      { input: { data: pixels, shape: [3, 784] } },
      { id: 'req-42', outputs: ['probabilities'], version: '1.0.0' },
    );
    expect(r.id).toBe('req-42');
    expectGolden([r.output('probabilities')]);
    expect(() => r.output('logits')).toThrow("no output 'logits'; the response has 'probabilities'");
  });
});

describe('retries', () => {
  test('GIVEN a plan of burst 1 / rate 1 WHEN a second request is 429 with Retry-After: 1 THEN the client waits exactly 1 s, not its backoff, and the retry succeeds', async () => {
    const log: Exchange[] = [];
    const waits: number[] = [];
    const c = client({
      auth: { apiKey: TIGHT_KEY_A },
      retries: { max: 2, baseDelayMs: 10, maxDelayMs: 5000 },
      fetch: recordingFetch(log),
      sleep: clock.sleeper(waits),
    });
    await c.infer('mnist-mlp', sample.inputs);

    const r = await c.infer('mnist-mlp', sample.inputs);

    expectGolden(r.outputs);
    expect(log.map((e) => e.status)).toEqual([200, 429, 200]);
    expect(log[1].responseHeaders['retry-after']).toBe('1');
    expect(waits).toEqual([1000]);
  });

  test('GIVEN a client whose wait is 1 ms short of the Retry-After WHEN retried THEN the server still refuses: the wait is what refills the bucket', async () => {
    const log: Exchange[] = [];
    const short = (ms: number, signal?: AbortSignal) => clock.sleeper()(ms - 1, signal);
    const c = client({
      auth: { apiKey: TIGHT_KEY_A },
      retries: { max: 1, baseDelayMs: 10, maxDelayMs: 5000 },
      fetch: recordingFetch(log),
      sleep: short,
    });
    clock.advance(1000);
    await c.infer('mnist-mlp', sample.inputs);

    const err = await c.infer('mnist-mlp', sample.inputs).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RateLimitedError);
    expect(log.map((e) => e.status)).toEqual([200, 429, 429]);
  });

  test('GIVEN no retries WHEN rate limited THEN RateLimitedError with Retry-After in seconds and the server message', async () => {
    const c = client({ auth: { apiKey: TIGHT_KEY_B } });
    await c.infer('mnist-mlp', sample.inputs);

    const err = await c.infer('mnist-mlp', sample.inputs).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ status: 429, attempts: 1, retryAfterSeconds: 1 });
    expect((err as RateLimitedError).serverMessage).toMatch(/rate limit/i);
  });

  test('GIVEN an unknown model WHEN inferred with retries on THEN HttpError 404 with the server message, after exactly 1 attempt', async () => {
    const log: Exchange[] = [];
    const err = await client({ retries: { max: 3 }, fetch: recordingFetch(log) })
      .infer('no-such-model', sample.inputs)
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(HttpError);
    expect(err).not.toBeInstanceOf(AuthError);
    expect(err).toMatchObject({
      status: 404,
      attempts: 1,
      serverMessage: "unknown model 'no-such-model'; this server has: mnist-mlp, tiny-mlp",
    });
    expect((err as Error).message).toBe(
      "POST /v2/models/no-such-model/infer answered 404: unknown model 'no-such-model'; this server has: mnist-mlp, tiny-mlp",
    );
    expect(log).toHaveLength(1);
  });

  test('GIVEN an input the model does not have WHEN inferred with retries on THEN HttpError 400 naming it, after 1 attempt', async () => {
    const log: Exchange[] = [];
    const err = await client({ retries: { max: 3 }, fetch: recordingFetch(log) })
      .infer('mnist-mlp', { pixels: { data: new Float32Array(784), shape: [1, 784] } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, attempts: 1, serverMessage: "unknown input 'pixels'; the model's inputs are: input" });
    expect(log).toHaveLength(1);
  });
});

describe('metadata and readiness', () => {
  test('GIVEN mnist-mlp WHEN metadata is asked THEN its versions, platform, I/O and the package parameters', async () => {
    const dir = join(__dirname, '..', '..', 'models', 'mnist-mlp');
    const manifest = JSON.parse(readFileSync(join(dir, 'modelship.json'), 'utf8')) as { description: string; preprocess: unknown };
    await expect(client().metadata('mnist-mlp')).resolves.toEqual({
      name: 'mnist-mlp',
      versions: ['1.0.0'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
      parameters: {
        description: manifest.description,
        labels: JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as string[],
        preprocess: manifest.preprocess,
      },
    });
  });

  test('GIVEN a running server WHEN live and ready are asked THEN true; for an unknown version THEN HttpError 404', async () => {
    const c = client();
    await expect(c.live()).resolves.toBe(true);
    await expect(c.ready()).resolves.toBe(true);
    await expect(c.ready('mnist-mlp', '1.0.0')).resolves.toBe(true);
    await expect(c.ready('mnist-mlp', '9.9.9')).rejects.toMatchObject({
      status: 404,
      serverMessage: "model 'mnist-mlp' has no version '9.9.9'; it has: 1.0.0",
    });
  });
});

describe('checked before sending', () => {
  test.each<[string, (c: ModelClient) => Promise<unknown>, string]>([
    [
      'data shorter than the shape',
      (c) => c.infer('mnist-mlp', { input: { data: new Float32Array(10), shape: [1, 784] } }),
      "input 'input': shape [1,784] needs 784 elements but data has 10",
    ],
    [
      'a plain array without a datatype',
      (c) => c.infer('mnist-mlp', { input: { data: [1, 2], shape: [1, 2] } }),
      "input 'input': a plain array needs a datatype (FP32, INT64, BOOL...)",
    ],
    [
      'a typed array of another type',
      (c) => c.infer('mnist-mlp', { input: { data: new Int32Array(2), shape: [1, 2], datatype: 'FP32' } }),
      "input 'input': a Int32Array cannot carry FP32; pass a plain array or the matching typed array",
    ],
    [
      'an out-of-range integer',
      (c) => c.infer('mnist-mlp', { input: { data: [300], shape: [1], datatype: 'UINT8' } }),
      "input 'input': element 0 is 300; UINT8 data must be integers from 0 to 255",
    ],
  ])('GIVEN %s WHEN inferred THEN an error before any request', async (_what, call, message) => {
    const log: Exchange[] = [];
    await expect(call(client({ fetch: recordingFetch(log) }))).rejects.toThrow(message);
    expect(log).toHaveLength(0);
  });

  test('GIVEN two auth kinds at once, or a bad base URL WHEN a client is made THEN TypeError', () => {
    expect(() => new ModelClient({ baseUrl: running.url, auth: { apiKey: 'k', bearer: 't' } })).toThrow(
      'auth must have exactly one of apiKey, sigv4 and bearer, got apiKey, bearer',
    );
    expect(() => new ModelClient({ baseUrl: 'ftp://x' })).toThrow('baseUrl must be http or https, got ftp:');
  });
});
