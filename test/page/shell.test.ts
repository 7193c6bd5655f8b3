/**
 * Before a credential is given: the page's shell is public, carries the security headers, and neither it
 * nor any route that answers without credentials says a word about the models served.
 */
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { CONTENT_SECURITY_POLICY } from '../../lib/page/page-routes';
import { send } from '../helpers/http';

const ROOT = join(__dirname, '..', '..');
const NAMES = /mnist|digit|probabilities|onnxruntime_onnx/i;
let running: RunningServer;

beforeAll(async () => {
  running = await startServer({ dirs: [join(ROOT, 'models', 'mnist-mlp'), join(ROOT, 'models', 'mnist-cnn')], port: 0 });
});
afterAll(async () => running?.close());

test('the shell is served without credentials, with the CSP, never cached, and names no model', async () => {
  for (const [path, type] of [
    ['/', 'text/html'],
    ['/page/app.js', 'text/javascript'],
    ['/page/app.css', 'text/css'],
    ['/page/icon.svg', 'image/svg+xml'],
  ]) {
    const answer = await send(`${running.url}${path}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toContain(type);
    expect(answer.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body.toString()).not.toMatch(NAMES);
    expect(answer.body.toString()).not.toContain(running.devKey!);
  }
  expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  expect((await send(`${running.url}/`, { method: 'POST', body: 'x' })).status).toBe(405);
});

test('every other route needs credentials, and its refusal names no model', async () => {
  const paths = [
    ['GET', '/v2'],
    ['GET', '/v2/health/ready'],
    ['GET', '/v2/models/mnist-mlp'],
    ['GET', '/v2/models/nope'],
    ['POST', '/v2/models/mnist-mlp/infer'],
    ['POST', '/v2/repository/index'],
    ['GET', '/openapi.json'],
    ['GET', '/page/other.js'],
    ['GET', '/index.html'],
    ['GET', '/favicon.ico'],
  ];
  for (const [method, path] of paths) {
    const answer = await send(`${running.url}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
    expect([path, answer.status]).toEqual([path, 401]);
    expect(answer.body.toString()).not.toMatch(NAMES);
  }
});
