/**
 * Requests node:http cannot parse never reach the router; the server still answers them in the
 * protocol's JSON error shape, with a length, and keeps serving everyone else.
 */
import { connect } from 'node:net';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { makeTinyMlpPackage } from '../helpers/fixtures';

const KEY = 'client-error-test-key-0123456789ab';
let running: RunningServer;

beforeAll(async () => {
  const { dir } = await makeTinyMlpPackage();
  running = await startServer({
    dirs: [dir],
    port: 0,
    config: {
      plans: { p: { rateLimit: 1000, burstLimit: 1000 } },
      apiKeys: [{ name: 'k', value: KEY, plan: 'p', enabled: true }],
      maxBodyBytes: 65536,
    },
  });
});
afterAll(() => running.close());

function raw(request: string): Promise<string> {
  const { port } = new URL(running.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });
}

function parse(answer: string): { status: string; headers: string; body: string } {
  const [head, body] = answer.split('\r\n\r\n');
  return { status: head.split('\r\n')[0], headers: head, body };
}

test("GIVEN headers over node's limit WHEN sent THEN 431 with a JSON error and its length", async () => {
  const answer = parse(await raw(`GET /v2/health/live HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`));
  expect(answer.status).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  expect(JSON.parse(answer.body)).toEqual({ error: 'the request headers are too large' });
  expect(answer.headers).toContain(`content-length: ${Buffer.byteLength(answer.body)}`);
});

test('GIVEN bytes that are not HTTP WHEN sent THEN 400 with a JSON error, and the server still serves', async () => {
  const answer = parse(await raw('\u0001\u0002 not http at all\r\n\r\n'));
  expect(answer.status).toBe('HTTP/1.1 400 Bad Request');
  expect(JSON.parse(answer.body)).toEqual({ error: 'malformed HTTP request' });
  const ok = await fetch(`${running.url}/v2/health/live`, { headers: { 'x-api-key': KEY } });
  expect(ok.status).toBe(200);
});
