/**
 * The local server's connection handling over real sockets: the body limit (413) with Content-Length and
 * with chunked uploads, keep-alive reuse, graceful shutdown (in process and on SIGTERM of the real CLI),
 * and a tampered package refused while the good one keeps serving.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { parseServerConfig, type ServerConfig } from '../../lib/local/config';
import type { AccessLogLine } from '../../lib/local/server';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { Manifest } from '../../lib/package/manifest';
import { ManualClock } from '../helpers/clock';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { errorMessage, send } from '../helpers/http';

const KEY = 'connections-key-0123456789abcdefgh';
const LIMIT = 64 * 1024;
const REPO = resolve(__dirname, '..', '..');

function config(): ServerConfig {
  return parseServerConfig({
    plans: { open: { rateLimit: 100_000, burstLimit: 100_000 } },
    apiKeys: [{ name: 'tester', value: KEY, plan: 'open' }],
    maxBodyBytes: LIMIT,
  });
}

/** A valid tiny-mlp request of `batch` rows, and the JSON text of it. */
function inferBody(batch: number): string {
  const data = Array.from({ length: batch * 4 }, (_, i) => ((i % 17) - 8) / 8);
  return JSON.stringify({ id: `batch-${batch}`, inputs: [{ name: 'x', shape: [batch, 4], datatype: 'FP32', data }] });
}

const AUTH = { 'x-api-key': KEY, 'content-type': 'application/json' };

/** Resolves with the error a TCP connect to `url` fails with, or with 'connected' when it succeeds. */
function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveCode) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolveCode('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolveCode(err.code ?? err.message));
  });
}

/**
 * Starts a POST whose body is only partly written. It asks for 100-continue, which node's server sends
 * once it has parsed the headers and handed the request on: `started` resolves then, with the request in
 * flight on the server and half its body written. `finish()` writes the rest; `answer` resolves with the
 * response and its body.
 */
function halfWrittenRequest(
  url: string,
  body: string,
): { started: Promise<void>; finish: () => void; answer: Promise<{ res: IncomingMessage; body: string }> } {
  const bytes = Buffer.from(body, 'utf8');
  const half = Math.floor(bytes.length / 2);
  const req = httpRequest(`${url}/v2/models/tiny-mlp/infer`, {
    method: 'POST',
    agent: false,
    headers: { ...AUTH, 'content-length': bytes.length, expect: '100-continue' },
  });
  const started = new Promise<void>((resolveStarted) => {
    req.once('continue', () => {
      req.write(bytes.subarray(0, half));
      resolveStarted();
    });
  });
  const answer = new Promise<{ res: IncomingMessage; body: string }>((resolveAnswer, reject) => {
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolveAnswer({ res, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return { started, finish: () => req.end(bytes.subarray(half)), answer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it holds, failing after `boundMs`: a bounded wait for something the server does
 * on its own (log a request, close a listener), never a verdict on how long it took.
 */
async function eventually(what: string, check: () => boolean | Promise<boolean>, boundMs = 10_000): Promise<void> {
  for (let waited = 0; !(await check()); waited += 20) {
    if (waited >= boundMs) throw new Error(`${what}: still not so after ${boundMs} ms`);
    await sleep(20);
  }
}

/** Resolves with `promise`'s value, or with `late` when it takes more than `boundMs`. */
function within<T>(promise: Promise<T>, boundMs: number, late: string): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<string>((r) => (timer = setTimeout(() => r(late), boundMs)));
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** The server's grace for in-flight requests at close (lib/local/server.ts); every bound here is well under it. */
const GRACE_MS = 30_000;
const BOUND_MS = GRACE_MS / 3;

let parent: string;
let good: FixturePackage;
let goldenRequest: string;
let goldenOutputs: unknown;

beforeAll(async () => {
  parent = tempDir('modelship-conn-');
  good = await makeTinyMlpPackage(parent);
  const manifest = JSON.parse(readFileSync(join(good.dir, 'modelship.json'), 'utf8')) as Manifest;
  goldenRequest = readFileSync(join(good.dir, manifest.samples[0].request), 'utf8');
  goldenOutputs = (JSON.parse(readFileSync(join(good.dir, manifest.samples[0].response), 'utf8')) as { outputs: unknown }).outputs;
});

describe('body limit and keep-alive', () => {
  let running: RunningServer;
  const log: AccessLogLine[] = [];
  beforeAll(async () => {
    running = await startServer({ dirs: [good.dir], port: 0, config: config(), onRequest: (l) => log.push(l) });
  });
  afterAll(() => running.close());

  async function expectGoldenAnswer(agent?: Agent): Promise<void> {
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, body: goldenRequest, agent });
    expect(r.status).toBe(200);
    expect((r.json as { outputs: unknown }).outputs).toEqual(goldenOutputs);
  }

  test('GIVEN a 64 KiB limit WHEN a body of limit+1 bytes is sent with Content-Length THEN 413 JSON, and the server still answers', async () => {
    const body = Buffer.alloc(LIMIT + 1, 0x20);
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, body });
    expect(r.status).toBe(413);
    expect(r.headers['content-type']).toBe('application/json');
    expect(errorMessage(r)).toBe(`the body is ${LIMIT + 1} bytes; the limit is ${LIMIT}`);
    await expectGoldenAnswer();
  });

  test('GIVEN a 64 KiB limit WHEN a body of exactly the limit is sent THEN it is read and served (200, not 413)', async () => {
    const json = inferBody(1);
    const body = Buffer.concat([Buffer.from(json), Buffer.alloc(LIMIT - json.length, 0x20)]);
    expect(body.length).toBe(LIMIT);
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, body });
    // Trailing whitespace is valid JSON: the body is read, decoded and answered.
    expect(r.status).toBe(200);
  });

  test('GIVEN a 64 KiB limit WHEN a chunked upload passes it mid-stream THEN 413 JSON, and the server still answers', async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(16 * 1024, 0x30 + i));
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, chunks });
    expect(r.status).toBe(413);
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(errorMessage(r)).toBe(`the body is over the limit of ${LIMIT} bytes`);
    expect(r.headers.connection).toBe('close');
    await expectGoldenAnswer();
  });

  test('GIVEN a chunked upload whose chunk framing breaks mid-body WHEN it is sent THEN 400 JSON, no 5xx is logged, and the server still answers', async () => {
    const before = log.length;
    const { hostname, port } = new URL(running.url);
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (c: Buffer) => void (received += c.toString('utf8')));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    // 100-continue says when the server is reading the body, so the broken chunk arrives mid-body.
    socket.write(
      `POST /v2/models/tiny-mlp/infer HTTP/1.1\r\nhost: ${hostname}\r\nx-api-key: ${KEY}\r\nexpect: 100-continue\r\ntransfer-encoding: chunked\r\n\r\n`,
    );
    await eventually('100 Continue received', () => received.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
    socket.write('5\r\n{"inp\r\n');
    socket.write('zz\r\nnot a chunk\r\n');
    await closed;
    const [head, body] = received.slice('HTTP/1.1 100 Continue\r\n\r\n'.length).split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body)).toEqual({ error: 'malformed HTTP request' });
    await eventually('the abandoned request logged', () => log.length > before);
    expect(log.slice(before).map((l) => l.status)).toEqual([400]);
    await expectGoldenAnswer();
  });

  test('GIVEN a chunked upload under the limit WHEN it is sent THEN it is served (200)', async () => {
    const text = inferBody(3);
    const chunks = [Buffer.from(text.slice(0, 10)), Buffer.from(text.slice(10, 40)), Buffer.from(text.slice(40))];
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, chunks });
    expect(r.status).toBe(200);
    expect((r.json as { id: string; outputs: Array<{ shape: number[] }> }).outputs.map((o) => o.shape)).toEqual([
      [3, 3],
      [3, 3],
    ]);
  });

  test('GIVEN a keep-alive agent with one socket WHEN six requests (good and 4xx) go one after another THEN all use one connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers = [];
      const paths = ['/v2/health/live', '/v2/models/tiny-mlp', '/v2/models/nope', '/v2/models/tiny-mlp/infer'];
      for (const p of paths) answers.push(await send(`${running.url}${p}`, { headers: AUTH, agent }));
      answers.push(await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, agent, body: '{"inputs": 3}' }));
      answers.push(await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, agent, body: goldenRequest }));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 405, 400, 200]);
      expect(answers.map((a) => a.reusedSocket)).toEqual([false, true, true, true, true, true]);
      expect(new Set(answers.map((a) => a.localPort)).size).toBe(1);
      expect(answers.every((a) => a.headers.connection === 'keep-alive')).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe('graceful shutdown in process', () => {
  test('GIVEN a request in flight (half its body written) WHEN close() is called THEN new connections are refused, the request still gets 200 and close() resolves after it', async () => {
    const running = await startServer({ dirs: [good.dir], port: 0, config: config() });
    const inFlight = halfWrittenRequest(running.url, inferBody(256));
    await inFlight.started;
    let closed = false;
    const closing = running.close().then(() => void (closed = true));
    await eventually('connections refused', async () => (await tryConnect(running.url)) === 'ECONNREFUSED');
    expect(closed).toBe(false);
    inFlight.finish();
    const { res, body } = await inFlight.answer;
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    const answer = JSON.parse(body) as { id: string; outputs: Array<{ name: string; shape: number[] }> };
    expect(answer.id).toBe('batch-256');
    expect(answer.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['logits', [256, 3]],
      ['probabilities', [256, 3]],
    ]);
    await closing;
    expect(closed).toBe(true);
  });

  test('GIVEN a client that disconnects mid-body WHEN close() is called THEN it still resolves, and the abandoned request is logged as a 400, not a 5xx', async () => {
    const log: AccessLogLine[] = [];
    const running = await startServer({ dirs: [good.dir], port: 0, config: config(), onRequest: (l) => log.push(l) });
    const body = Buffer.from(inferBody(64));
    const { hostname, port } = new URL(running.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let received = '';
    socket.on('data', (c: Buffer) => void (received += c.toString('utf8')));
    socket.write(
      `POST /v2/models/tiny-mlp/infer HTTP/1.1\r\nhost: ${hostname}\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\n` +
        `expect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    await eventually('100 Continue received', () => received.startsWith('HTTP/1.1 100 Continue'));
    socket.write(body.subarray(0, 100));
    socket.destroy();
    // The abandoned request is answered and logged on its own; a request never accounted for would hold close() for the grace.
    await eventually('the abandoned request logged', () => log.length === 1);
    expect(
      await within(
        running.close().then(() => 'closed'),
        BOUND_MS,
        `close() still waiting after ${BOUND_MS} ms`,
      ),
    ).toBe('closed');
    expect(log.map((l) => [l.method, l.path, l.status, l.principal])).toEqual([
      ['POST', '/v2/models/tiny-mlp/infer', 400, 'apiKey:tester'],
    ]);
  });

  test('GIVEN a connection that has sent nothing (a browser preconnect) and one that sent half its headers WHEN close() is called THEN it resolves at once and both are cut', async () => {
    const running = await startServer({ dirs: [good.dir], port: 0, config: config() });
    const { hostname, port } = new URL(running.url);
    const open = async (first?: string) => {
      const socket = connect(Number(port), hostname);
      await new Promise<void>((r) => socket.once('connect', () => r()));
      if (first !== undefined) socket.write(first);
      const ended = new Promise<string>((r) => socket.once('close', () => r('cut')));
      return { socket, ended };
    };
    const silent = await open();
    const halfHeaders = await open(`GET /v2/health/ready HTTP/1.1\r\nhost: ${hostname}\r\n`);
    try {
      await sleep(50);
      expect(
        await within(
          running.close().then(() => 'closed'),
          BOUND_MS,
          `close() still waiting after ${BOUND_MS} ms`,
        ),
      ).toBe('closed');
      expect(await within(silent.ended, BOUND_MS, 'the silent connection is still open')).toBe('cut');
      expect(await within(halfHeaders.ended, BOUND_MS, 'the half-headers connection is still open')).toBe('cut');
    } finally {
      silent.socket.destroy();
      halfHeaders.socket.destroy();
    }
  });
});

describe('clients that half-close', () => {
  test('GIVEN JWT auth (verified asynchronously) WHEN 10 clients send a whole request and half-close at once THEN every request is accounted for and close() resolves', async () => {
    const dir = tempDir('modelship-halfclose-');
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }));
    const log: AccessLogLine[] = [];
    const clock = new ManualClock();
    const running = await startServer({
      dirs: [good.dir],
      port: 0,
      clock,
      config: parseServerConfig({ plans: {}, jwt: { issuer: 'https://issuer.test', audience: 'modelship', jwksFile } }),
      onRequest: (l) => log.push(l),
    });
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('https://issuer.test')
      .setAudience('modelship')
      .setSubject('half-closer')
      .setExpirationTime(clock.nowSeconds() + 300)
      .sign(privateKey);
    const body = inferBody(2);
    const { hostname, port } = new URL(running.url);
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const socket = connect(Number(port), hostname);
        socket.on('error', () => undefined);
        await new Promise<void>((r) => socket.once('connect', () => r()));
        const closed = new Promise<void>((r) => socket.once('close', () => r()));
        // end() sends the request and then FIN: node's server aborts the request it has not answered yet.
        socket.end(
          `POST /v2/models/tiny-mlp/infer HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${jwt}\r\n` +
            `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        await closed;
      }),
    );
    expect(
      await within(
        running.close().then(() => 'closed'),
        BOUND_MS,
        `close() still waiting after ${BOUND_MS} ms`,
      ),
    ).toBe('closed');
    expect(log).toHaveLength(10);
    expect(log.every((l) => l.status === 200 || l.status === 400)).toBe(true);
  });
});

describe('integrity: a tampered package is refused, the others are served', () => {
  let running: RunningServer;
  let tampered: FixturePackage;
  beforeAll(async () => {
    tampered = await makeTinyMlpPackage(parent, { name: 'tampered-mlp', seed: 11 });
    const modelPath = join(tampered.dir, 'model.onnx');
    const bytes = readFileSync(modelPath);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(modelPath, bytes);
    running = await startServer({ dirs: [tampered.dir, good.dir], port: 0, config: config() });
  });
  afterAll(() => running.close());

  test('GIVEN one byte of tampered-mlp changed WHEN the server starts THEN it records exactly that failure, naming sha256', () => {
    expect(running.failures).toHaveLength(1);
    expect(running.failures[0].name).toBe('tampered-mlp');
    expect(running.failures[0].version).toBe('1.0.0');
    expect(running.failures[0].reason).toMatch(/^model\.onnx has sha256 [0-9a-f]{64} but the manifest says/);
    // The reason is shown to callers: it names the file in the package, never the server's directory.
    expect(running.failures[0].reason).not.toContain(tampered.dir);
    expect(running.router.engines().map((e) => e.name)).toEqual(['tiny-mlp']);
  });

  test('GIVEN the tampered package WHEN the good one is called THEN it answers its golden sample', async () => {
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, body: goldenRequest });
    expect(r.status).toBe(200);
    expect((r.json as { outputs: unknown }).outputs).toEqual(goldenOutputs);
    const ready = await send(`${running.url}/v2/models/tiny-mlp/ready`, { headers: AUTH });
    expect(ready.status).toBe(200);
  });

  test.each([
    ['infer', 'POST', '/v2/models/tampered-mlp/infer'],
    ['infer, versioned', 'POST', '/v2/models/tampered-mlp/versions/1.0.0/infer'],
    ['model ready', 'GET', '/v2/models/tampered-mlp/ready'],
    ['model metadata', 'GET', '/v2/models/tampered-mlp'],
  ])('GIVEN the tampered package WHEN its %s route is called THEN 503 whose error mentions sha256', async (_what, method, path) => {
    const r = await send(`${running.url}${path}`, {
      method,
      headers: AUTH,
      body: method === 'POST' ? inferBody(1) : undefined,
    });
    expect(r.status).toBe(503);
    const message = errorMessage(r);
    expect(message).toContain("model 'tampered-mlp' is not ready");
    expect(message).toContain('sha256');
  });

  test('GIVEN the tampered package WHEN /v2/health/ready is called THEN 503 naming it, while /v2/health/live is 200', async () => {
    const r = await send(`${running.url}/v2/health/ready`, { headers: AUTH });
    expect(r.status).toBe(503);
    expect(errorMessage(r)).toContain("model 'tampered-mlp' failed to load");
    expect((await send(`${running.url}/v2/health/live`, { headers: AUTH })).status).toBe(200);
  });
});

interface Cli {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  stdout(): string;
  waitFor(pattern: RegExp, ms: number): Promise<RegExpMatchArray>;
}

describe('SIGTERM on the real CLI', () => {
  let bundle: string;
  let cfgPath: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    // The CLI as users run it; jest's global setup compiles dist/, and this builds it only when it is missing.
    bundle = join(REPO, 'dist', 'bin', 'modelship.js');
    if (!existsSync(bundle))
      execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', REPO], { cwd: REPO });
    cfgPath = join(tempDir('modelship-cfg-'), 'server.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        plans: { open: { rateLimit: 1000, burstLimit: 1000 } },
        apiKeys: [{ name: 'tester', value: KEY, plan: 'open' }],
        maxBodyBytes: LIMIT,
      }),
    );
  }, 120_000);

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** Spawns `node dist/bin/modelship.js serve` on a free port and waits for its banner. */
  async function startCli(): Promise<Cli> {
    const proc = spawn(process.execPath, [bundle, 'serve', good.dir, '--port', '0', '--config', cfgPath], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stdout = '';
    let stderr = '';
    const waiters: Array<() => void> = [];
    proc.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      waiters.splice(0).forEach((w) => w());
    });
    proc.stderr.on('data', (c: Buffer) => void (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const waitFor = async (pattern: RegExp, ms: number): Promise<RegExpMatchArray> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = pattern.exec(stdout);
        if (m) return m;
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no ${pattern} in stdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    };
    const url = (await waitFor(/serving 1 model\(s\) at (http:\/\/127\.0\.0\.1:\d+)/, 20_000))[1];
    return { proc, url, exited, stdout: () => stdout, waitFor };
  }

  test('GIVEN `modelship serve` with a request in flight WHEN it gets SIGTERM THEN it refuses new connections, finishes the request with 200 and exits 0', async () => {
    const cli = await startCli();
    expect((await send(`${cli.url}/v2/models/tiny-mlp/infer`, { headers: AUTH, body: goldenRequest })).status).toBe(200);

    const inFlight = halfWrittenRequest(cli.url, inferBody(128));
    await inFlight.started;
    cli.proc.kill('SIGTERM');
    await cli.waitFor(/SIGTERM: finishing in-flight requests/, 5_000);
    // The line is printed just before the listener closes: a connect racing it may still land in the
    // backlog (connected, or reset when the listener closes under it). Soon every connect is refused.
    await eventually('connections refused', async () => (await tryConnect(cli.url)) === 'ECONNREFUSED', BOUND_MS);
    expect(cli.proc.exitCode).toBeNull();
    inFlight.finish();
    const { res, body } = await inFlight.answer;
    expect(res.statusCode).toBe(200);
    expect((JSON.parse(body) as { id: string }).id).toBe('batch-128');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/POST \/v2\/models\/tiny-mlp\/infer 200 /);
  });

  test('GIVEN `modelship serve` with an idle keep-alive connection open WHEN it gets SIGTERM THEN it closes that connection and exits 0 at once', async () => {
    const cli = await startCli();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await send(`${cli.url}/v2/health/live`, { headers: AUTH, agent });
      expect(first.status).toBe(200);
      expect(first.headers.connection).toBe('keep-alive');
      const idle = Object.values(agent.freeSockets).flat()[0]!;
      const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
      cli.proc.kill('SIGTERM');
      // Nothing is in flight, so nothing waits for the grace: the process is gone well before it would end.
      expect(await within(cli.exited, BOUND_MS, `still running ${BOUND_MS} ms after SIGTERM`)).toBe(0);
      await idleClosed;
    } finally {
      agent.destroy();
    }
  });
});
