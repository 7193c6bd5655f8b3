import { InferenceEngine } from '../../lib/engine/engine';
import type { HttpRequest } from '../../lib/router/http';
import { ModelRouter, type RouteEvent } from '../../lib/router/router';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

const get = (path: string, method = 'GET'): HttpRequest => ({ method, path, headers: {}, body: new Uint8Array(0) });
const post = (path: string, json: unknown, headers: Record<string, string> = {}): HttpRequest => ({
  method: 'POST',
  path,
  headers,
  body: Buffer.from(JSON.stringify(json)),
});
const body = (r: { body: string | Uint8Array }) => JSON.parse(Buffer.from(r.body as string).toString()) as Record<string, unknown>;

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
  // Spies on the engines must not carry calls or fakes from one test into the next.
  afterEach(() => jest.restoreAllMocks());

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
    jest.spyOn(v1, 'infer').mockRejectedValueOnce(new Error('secret internal path /var/task/x'));
    events.length = 0;
    const r = await failing.handle(
      post('/v2/models/tiny-mlp/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    );
    expect(r.status).toBe(500);
    expect(body(r)).toEqual({ error: 'internal error' });
    expect((events[0].error as Error).message).toBe('secret internal path /var/task/x');
  });

  test('decodes an infer body against the version it routes to, and hands the engine only tensors', async () => {
    // GIVEN a spy on the engine an unversioned path reaches
    const infer = jest.spyOn(v2, 'infer');
    // WHEN a JSON body asks for one output
    const r = await router.handle(
      post(
        '/v2/models/tiny-mlp/infer',
        { id: 'r1', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }], outputs: [{ name: 'logits' }] },
        { 'content-type': 'application/json' },
      ),
    );
    // THEN the engine got a decoded request, with no body or headers in it
    expect(infer).toHaveBeenCalledTimes(1);
    const request = infer.mock.calls[0][0];
    expect(Object.keys(request).sort()).toEqual(['id', 'inputs', 'outputs', 'sagemaker']);
    expect(request.inputs[0]).toEqual({ name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) });
    // AND the router encoded its result as the 200 answer
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(body(r)).toMatchObject({
      model_name: 'tiny-mlp',
      model_version: '1.10.0',
      id: 'r1',
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 3] }],
    });
  });

  test("the router's tensor limits refuse a request before the engine runs it", async () => {
    // GIVEN a router whose limit is below what the request holds
    const strict = new ModelRouter([v1], { limits: { maxElements: 4, maxRank: 2 } });
    const infer = jest.spyOn(v1, 'infer');
    // WHEN a request claims 8 elements, or 3 dimensions
    const big = await strict.handle(
      post('/v2/models/tiny-mlp/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }] }),
    );
    const deep = await strict.handle(
      post('/v2/models/tiny-mlp/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1, 4], data: [1, 2, 3, 4] }] }),
    );
    // THEN both are 400s that name the limit, and onnxruntime never saw them
    expect([big.status, deep.status]).toEqual([400, 400]);
    expect(body(big).error).toBe("input 'x': shape [2,4] holds 8 elements, more than the limit of 4");
    expect(body(deep).error).toBe("input 'x': shape has 3 dimensions, more than the limit of 2");
    expect(infer).not.toHaveBeenCalled();
    // AND what fits the limit is answered
    expect(
      (
        await strict.handle(
          post('/v2/models/tiny-mlp/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
        )
      ).status,
    ).toBe(200);
    expect(infer).toHaveBeenCalledTimes(1);
  });

  test('loading the same version twice is refused', () => {
    expect(() => new ModelRouter([v1, v1])).toThrow(/model tiny-mlp version 1.2.0 is loaded twice/);
  });
});
