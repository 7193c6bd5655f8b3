/**
 * ModelClient against the real local server when a call is over a payload limit: a 413 is a
 * PayloadTooLargeError (an HttpError) with the server's message, sent once and never retried, and with
 * advice that fits the call: the binary protocol for a JSON call, a smaller batch for a binary one. A 500
 * to a body over Lambda's invoke limit, API Gateway's answer when Lambda refuses the event, is one too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, ModelClient, PayloadTooLargeError } from '../../lib/client';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { makeWidePackage, WIDE_COLUMNS, WIDE_VALUE } from '../lambda/payload-fixtures';

const KEY = 'client-payload-key-0123456789abcdef';

let server: RunningServer;
let small: RunningServer;
let sent: number;

function serverConfig(maxBodyBytes?: number) {
  return parseServerConfig({
    plans: { roomy: { rateLimit: 1e6, burstLimit: 1e6 } },
    apiKeys: [{ name: 'test', value: KEY, plan: 'roomy' }],
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
  });
}

beforeAll(async () => {
  const parent = tempDir('modelship-client-payload-');
  const [wide, tiny] = await Promise.all([makeWidePackage(parent, 'wide'), makeTinyMlpPackage(parent)]);
  server = await startServer({ dirs: [wide.dir], port: 0, config: serverConfig(), page: false });
  small = await startServer({ dirs: [tiny.dir], port: 0, config: serverConfig(1024), page: false });
});

afterAll(async () => {
  await Promise.all([server?.close(), small?.close()]);
});

beforeEach(() => {
  sent = 0;
});

function client(baseUrl: string, protocol: 'json' | 'binary'): ModelClient {
  const counting: typeof fetch = (input, init) => {
    sent++;
    return fetch(input, init);
  };
  return new ModelClient({ baseUrl, auth: { apiKey: KEY }, protocol, fetch: counting, sleep: async () => {} });
}

function rows(batch: number) {
  return { x: { data: new Float32Array(batch).fill(WIDE_VALUE), shape: [batch, 1] } };
}

test("GIVEN a JSON call whose answer is over Lambda's limit WHEN made THEN PayloadTooLargeError with the server's message, advising binary, sent once", async () => {
  const err = await client(server.url, 'json')
    .infer('wide', rows(16))
    .catch((e: unknown) => e);

  expect(err).toBeInstanceOf(PayloadTooLargeError);
  expect(err).toBeInstanceOf(HttpError);
  const e = err as PayloadTooLargeError;
  expect(e.status).toBe(413);
  expect(e.attempts).toBe(1);
  expect(sent).toBe(1);
  expect(e.serverMessage).toMatch(
    /^the response would take \d+ bytes as a Lambda result, over Lambda's 6291456-byte synchronous payload limit; ask for binary outputs/,
  );
  expect(e.message).toBe(`POST /v2/models/wide/infer answered 413: ${e.serverMessage}`);
  expect(e.hint).toBe("send the tensors with protocol: 'binary', or a smaller batch");
});

test('GIVEN the same call with protocol binary WHEN made THEN it is answered whole', async () => {
  const result = await client(server.url, 'binary').infer('wide', rows(16));

  expect(result.output('y').shape).toEqual([16, WIDE_COLUMNS]);
  expect(result.output('y').data).toHaveLength(16 * WIDE_COLUMNS);
});

test('GIVEN a binary call still over the limit WHEN made THEN PayloadTooLargeError whose hint is a smaller batch', async () => {
  const err = await client(server.url, 'binary')
    .infer('wide', rows(32))
    .catch((e: unknown) => e);

  expect(err).toBeInstanceOf(PayloadTooLargeError);
  const e = err as PayloadTooLargeError;
  expect(e.serverMessage).toMatch(/, base64-encoded, over Lambda's 6291456-byte synchronous payload limit; send a smaller batch$/);
  expect(e.hint).toBe('send a smaller batch');
  expect(sent).toBe(1);
});

test('GIVEN a 413 whose message gives no advice (the body limit) WHEN a JSON call meets it THEN the error adds the hint', async () => {
  const err = await client(small.url, 'json')
    .infer('tiny-mlp', { x: { data: new Float32Array(400).fill(0.123456789), shape: [100, 4] } })
    .catch((e: unknown) => e);

  expect(err).toBeInstanceOf(PayloadTooLargeError);
  const e = err as PayloadTooLargeError;
  expect(e.serverMessage).toMatch(/^the body is \d+ bytes; the limit is 1024$/);
  expect(e.message).toBe(
    `POST /v2/models/tiny-mlp/infer answered 413: ${e.serverMessage} (send the tensors with protocol: 'binary', or a smaller batch)`,
  );
  expect(sent).toBe(1);
});

describe('a 500 to a body over Lambda’s invoke limit (what API Gateway answers when Lambda refuses the event)', () => {
  // A stand-in for API Gateway in front of Lambda: a 500 with ModelApi's DEFAULT_5XX body for every call.
  let gateway: Server;
  let gatewayUrl: string;
  beforeAll(async () => {
    gateway = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"Internal server error"}');
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => gateway.close(() => resolve())));

  const values = (n: number) => ({ x: { data: new Float32Array(n).fill(1 / 3), shape: [1, n] } });

  test('GIVEN a JSON body over the limit WHEN the answer is a 500 THEN PayloadTooLargeError, sent once, naming the limit', async () => {
    const err = await client(gatewayUrl, 'json')
      .infer('m', values(600_000))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PayloadTooLargeError);
    const e = err as PayloadTooLargeError;
    expect(sent).toBe(1);
    expect(e.attempts).toBe(1);
    expect(e.status).toBe(500);
    expect(e.message).toMatch(
      /^POST \/v2\/models\/m\/infer answered 500: Internal server error, and not retried: the body would take \d+ bytes in the Lambda event; the limit is 6225920 .*, which a Lambda-backed route answers with a 500$/,
    );
    expect(e.hint).toBe("send the tensors with protocol: 'binary', or a smaller batch");
  });

  test('GIVEN a body under the limit WHEN the answer is a 500 THEN it is retried, and the error is a plain HttpError', async () => {
    const err = await client(gatewayUrl, 'json')
      .infer('m', values(1_000))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(HttpError);
    expect(err).not.toBeInstanceOf(PayloadTooLargeError);
    expect(sent).toBe(4);
    expect((err as HttpError).attempts).toBe(4);
  });
});
