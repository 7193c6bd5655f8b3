import { InferenceEngine } from '../../lib/engine/engine';
import type { HttpRequest } from '../../lib/protocol/types';
import { ModelRouter, type RouteEvent } from '../../lib/router/router';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

const get = (path: string, method = 'GET'): HttpRequest => ({ method, path, headers: {}, body: new Uint8Array(0) });
const body = (r: { body: string | Uint8Array }) => JSON.parse(Buffer.from(r.body as string).toString());

describe('ModelRouter', () => {
  let v1: InferenceEngine;
  let v2: InferenceEngine;
  let router: ModelRouter;
  const events: RouteEvent[] = [];

  beforeAll(async () => {
    const parent = tempDir();
    v1 = await InferenceEngine.load((await makeTinyMlpPackage(parent, { version: '1.2.0' })).dir);
    v2 = await InferenceEngine.load((await makeTinyMlpPackage(parent, { version: '1.10.0', seed: 99 })).dir);
    router = new ModelRouter([v1, v2], {
      failures: [{ name: 'broken', version: '1.0.0', reason: 'model.onnx has sha256 abc but the manifest says def' }],
      onResult: (e) => events.push(e),
    });
  });
  afterAll(async () => Promise.all([v1.release(), v2.release()]));

  test('an unversioned path reaches the highest semantic version, and metadata lists all versions', async () => {
    const r = await router.handle(get('/v2/models/tiny-mlp/ready'));
    expect(body(r)).toEqual({ name: 'tiny-mlp', version: '1.10.0', ready: true });
    expect(body(await router.handle(get('/v2/models/tiny-mlp'))).versions).toEqual(['1.10.0', '1.2.0']);
    expect(body(await router.handle(get('/v2/models/tiny-mlp/versions/1.2.0/ready'))).version).toBe('1.2.0');
  });

  test('a model that failed to load answers 503 with the reason, and the server is not ready', async () => {
    const r = await router.handle(get('/v2/models/broken/ready'));
    expect(r.status).toBe(503);
    expect(body(r)).toEqual({ error: "model 'broken' is not ready: model.onnx has sha256 abc but the manifest says def" });
    const ready = await router.handle(get('/v2/health/ready'));
    expect(ready.status).toBe(503);
    expect(body(ready).error).toMatch(/model 'broken' failed to load/);
    expect((await router.handle(get('/v2/health/live'))).status).toBe(200);
  });

  test('bad percent-encoding in the path is a 400', async () => {
    const r = await router.handle(get('/v2/models/%E0%A4%A/ready'));
    expect(r.status).toBe(400);
    expect(body(r).error).toMatch(/model name in the path is not valid percent-encoding/);
  });

  test('HEAD is answered like GET; other methods get 405', async () => {
    expect((await router.handle(get('/v2/health/live', 'HEAD'))).status).toBe(200);
    const r = await router.handle(get('/v2/models/tiny-mlp', 'DELETE'));
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    expect(body(r).error).toBe('DELETE is not allowed here; use GET');
    expect((await router.handle(get('/v2/models/tiny-mlp/infer'))).headers.allow).toBe('POST');
  });

  test('reports each request with its route, model, version and status', async () => {
    events.length = 0;
    await router.handle(get('/v2/models/tiny-mlp/versions/1.2.0/ready'));
    expect(events).toEqual([expect.objectContaining({ route: 'model-ready', model: 'tiny-mlp', version: '1.2.0', status: 200 })]);
    expect(events[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  test('an unexpected failure is a 500 whose message stays out of the answer', async () => {
    const failing = new ModelRouter([v1], { onResult: (e) => events.push(e) });
    jest.spyOn(v1, 'inferBody').mockRejectedValueOnce(new Error('secret internal path /var/task/x'));
    events.length = 0;
    const r = await failing.handle({ method: 'POST', path: '/v2/models/tiny-mlp/infer', headers: {}, body: Buffer.from('{}') });
    expect(r.status).toBe(500);
    expect(body(r)).toEqual({ error: 'internal error' });
    expect((events[0].error as Error).message).toBe('secret internal path /var/task/x');
  });

  test('loading the same version twice is refused', () => {
    expect(() => new ModelRouter([v1, v1])).toThrow(/model tiny-mlp version 1.2.0 is loaded twice/);
  });
});
