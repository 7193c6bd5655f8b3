/**
 * What ModelClient does with answers a healthy model server rarely gives, produced by a small node:http
 * stub: 5xx retried with backoff until success or the bound, Retry-After as seconds and as an HTTP date,
 * a Retry-After longer than the retry bound, a server that never answers (TimeoutError, not retried),
 * a refused connection (NetworkError after the retries), cancellation, and a 2xx body that is not v2.
 * The client's waits go to a sleep that records them and returns at once, and its clock is the test's:
 * each wait is checked exactly, and none is spent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, ModelClient, NetworkError, RateLimitedError, ResponseError, TimeoutError } from '../../lib/client';
import { backoffMs, parseRetryAfter, retryPolicy, sleep } from '../../lib/client/retry';
import type { Sleep } from '../../lib/util/clock';
import { ManualClock } from '../helpers/clock';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server;
let base: string;
let handler: Handler;
let hits: number;
let clock: ManualClock;
/** How long the client asked to wait before each retry, in order. */
let waits: number[];

const METADATA = { name: 'm', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [], outputs: [] };

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => handler(req, res, hits));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  hits = 0;
  clock = new ManualClock();
  waits = [];
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Jitter fixed at one half, so each backoff is half its cap. */
const HALF = () => 0.5;

function client(
  retries = { max: 3, baseDelayMs: 50, maxDelayMs: 2000 },
  timeoutMs = 5000,
  wait: Sleep = clock.sleeper(waits),
): ModelClient {
  return new ModelClient({ baseUrl: `${base}/prod/`, auth: { apiKey: 'k' }, retries, timeoutMs, clock, sleep: wait, random: HALF });
}

describe('retries on 5xx and 429', () => {
  test('GIVEN two 503s then 200 WHEN metadata is asked THEN 3 requests and the metadata, under a stage path', async () => {
    const paths: string[] = [];
    handler = (req, res, n) => {
      paths.push(req.url ?? '');
      if (n <= 2) answer(res, 503, { error: 'not ready' });
      else answer(res, 200, METADATA);
    };
    await expect(client().metadata('m')).resolves.toEqual(METADATA);
    expect(paths).toEqual(['/prod/v2/models/m', '/prod/v2/models/m', '/prod/v2/models/m']);
    // Full jitter at 0.5 of 50 ms, then of 100 ms.
    expect(waits).toEqual([25, 50]);
  });

  test('GIVEN 500 every time WHEN asked with max 2 retries THEN HttpError after 3 attempts with the last server message', async () => {
    handler = (_req, res, n) => answer(res, 500, { error: `broken ${n}` });
    const err = await client({ max: 2, baseDelayMs: 10, maxDelayMs: 100 })
      .metadata('m')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as Error).message).toBe('GET /prod/v2/models/m answered 500 (after 3 attempts): broken 3');
    expect(hits).toBe(3);
    expect(waits).toEqual([5, 10]);
  });

  test('GIVEN 429 with Retry-After as an HTTP date 2 s ahead of the client clock WHEN asked THEN the retry waits exactly until then', async () => {
    // 250 ms into a second: HTTP dates have whole seconds, and the wait is measured from the client's now.
    clock.set(Date.UTC(2024, 0, 10, 12, 0, 0, 250));
    handler = (_req, res, n) => {
      if (n === 1) answer(res, 429, { error: 'slow down' }, { 'retry-after': new Date(Date.UTC(2024, 0, 10, 12, 0, 2)).toUTCString() });
      else answer(res, 200, METADATA);
    };
    await client().metadata('m');
    expect(hits).toBe(2);
    expect(waits).toEqual([1750]);
  });

  test('GIVEN 429 with Retry-After in seconds WHEN asked THEN the retry waits that long, not the backoff', async () => {
    handler = (_req, res, n) => (n === 1 ? answer(res, 429, { error: 'slow down' }, { 'retry-after': '2' }) : answer(res, 200, METADATA));
    await client().metadata('m');
    expect(waits).toEqual([2000]);
  });

  test('GIVEN 429 with a Retry-After longer than maxDelayMs WHEN asked THEN RateLimitedError at once, carrying Retry-After', async () => {
    handler = (_req, res) => answer(res, 429, { error: 'quota exceeded' }, { 'retry-after': '3600' });
    const err = await client()
      .metadata('m')
      .catch((e: unknown) => e);
    expect(waits).toEqual([]);
    expect(hits).toBe(1);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ status: 429, attempts: 1, retryAfterSeconds: 3600, serverMessage: 'quota exceeded' });
  });

  test('GIVEN 400 WHEN asked with retries THEN one request only', async () => {
    handler = (_req, res) => answer(res, 400, { error: 'bad' });
    await expect(client().metadata('m')).rejects.toMatchObject({ status: 400, attempts: 1 });
    expect(hits).toBe(1);
  });
});

describe('timeouts, network failures, cancellation', () => {
  test('GIVEN a server that never answers WHEN asked with a 300 ms timeout THEN TimeoutError naming it, and no retry', async () => {
    // Only the client's own timer can end this call: the server never answers.
    handler = () => undefined;
    const err = await client(undefined, 300)
      .metadata('m')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('GET /prod/v2/models/m: no complete answer within 300 ms');
    expect(hits).toBe(1);
    expect(waits).toEqual([]);
  });

  test('GIVEN a server that sends headers but stalls the body WHEN asked THEN TimeoutError too', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"name":');
    };
    await expect(client(undefined, 300).metadata('m')).rejects.toBeInstanceOf(TimeoutError);
  });

  test('GIVEN nothing listening WHEN asked with 2 retries THEN NetworkError naming the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const c = new ModelClient({
      baseUrl: `http://127.0.0.1:${port}`,
      retries: { max: 2, baseDelayMs: 10, maxDelayMs: 50 },
      sleep: clock.sleeper(waits),
      random: HALF,
    });

    const err = await c.live().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe('GET /v2/health/live: the request failed: ECONNREFUSED');
    // Two retries, each after its backoff: network failures are retried like 5xx.
    expect(waits).toEqual([5, 10]);
  });

  test('GIVEN a caller signal aborted during a backoff WHEN asked THEN the call rejects with the abort reason, and sends nothing more', async () => {
    handler = (_req, res) => answer(res, 503, { error: 'down' }, { 'retry-after': '1' });
    const controller = new AbortController();
    // The real timer sleep, with the caller giving up once it has begun: only the abort can end it early.
    const abortMidWait: Sleep = (ms, signal) => {
      waits.push(ms);
      const waiting = sleep(ms, signal);
      controller.abort(new Error('caller gave up'));
      return waiting;
    };
    await expect(client(undefined, 5000, abortMidWait).metadata('m', undefined, { signal: controller.signal })).rejects.toThrow(
      'caller gave up',
    );
    expect(waits).toEqual([1000]);
    expect(hits).toBe(1);
  });

  test('GIVEN 200 with a body that is not a v2 response WHEN inferred THEN ResponseError', async () => {
    handler = (_req, res) => answer(res, 200, { hello: 'world' });
    const err = await client()
      .infer('m', { x: { data: new Float32Array(1), shape: [1] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseError);
    expect((err as Error).message).toBe(
      'POST /prod/v2/models/m/infer: the answer is not a v2 infer response: response has no outputs array',
    );
  });
});

describe('retry arithmetic', () => {
  test('GIVEN the timer sleep WHEN its signal aborts mid-wait, or was aborted before THEN it rejects with the reason; else it resolves', async () => {
    const controller = new AbortController();
    const long = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(long).rejects.toThrow('stop');
    await expect(sleep(1, controller.signal)).rejects.toThrow('stop');
    await expect(sleep(0)).resolves.toBeUndefined();
  });

  test('GIVEN Retry-After in seconds, as an HTTP date, in the past, or garbage THEN milliseconds, 0, or undefined', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:27:58 GMT');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  test('GIVEN full jitter THEN the wait is random() times min(maxDelay, base * 2^retry)', () => {
    const policy = retryPolicy({ max: 5, baseDelayMs: 100, maxDelayMs: 1000 });
    expect([0, 1, 2, 3, 4].map((r) => backoffMs(policy, r, () => 0.999999))).toEqual([99.9999, 199.9998, 399.9996, 799.9992, 999.999]);
    expect(backoffMs(policy, 3, () => 0)).toBe(0);
  });

  test('GIVEN bad retry options THEN RangeError naming the field', () => {
    expect(() => retryPolicy({ max: -1 })).toThrow('retries.max must be an integer from 0 to 20, got -1');
    expect(() => retryPolicy({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow(
      'retries.maxDelayMs must be at least baseDelayMs (500), got 100',
    );
  });
});
