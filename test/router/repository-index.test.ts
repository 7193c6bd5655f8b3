/**
 * What the router tells an authenticated caller about the models it was given: the repository index
 * (served and refused packages) and the metadata `parameters` (description, labels, preprocess).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceEngine } from '../../lib/engine/engine';
import type { HttpRequest } from '../../lib/router/http';
import { ModelRouter } from '../../lib/router/router';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

const request = (method: string, path: string, body = ''): HttpRequest => ({ method, path, headers: {}, body: Buffer.from(body) });
const json = (r: { body: string | Uint8Array }): unknown => JSON.parse(Buffer.from(r.body as string).toString());

describe('repository index and model parameters', () => {
  let described: InferenceEngine;
  let bare: InferenceEngine;
  let router: ModelRouter;

  beforeAll(async () => {
    const parent = tempDir();
    const pkg = await makeTinyMlpPackage(parent, {
      name: 'described',
      extras: {
        description: 'three classes',
        labels: ['cat', 'dog', 'eel'],
        preprocess: { layout: 'flat', range: [0, 1], channels: 'gray' },
      },
    });
    described = await InferenceEngine.load(pkg.dir);
    bare = await InferenceEngine.load((await makeTinyMlpPackage(parent)).dir);
    router = new ModelRouter([described, bare], { failures: [{ name: 'broken', version: '2.0.0', reason: 'sha256 mismatch' }] });
  });
  afterAll(async () => Promise.all([described.release(), bare.release()]));

  test('POST /v2/repository/index lists served models, then refused ones with the reason', async () => {
    const all = await router.handle(request('POST', '/v2/repository/index'));
    expect(all.status).toBe(200);
    expect(json(all)).toEqual([
      { name: 'described', version: '1.0.0', state: 'READY' },
      { name: 'tiny-mlp', version: '1.0.0', state: 'READY' },
      { name: 'broken', version: '2.0.0', state: 'UNAVAILABLE', reason: 'sha256 mismatch' },
    ]);
    const ready = json(await router.handle(request('POST', '/v2/repository/index', '{"ready":true}'))) as unknown[];
    expect(ready.map((e) => (e as { name: string }).name)).toEqual(['described', 'tiny-mlp']);
  });

  test('a malformed index request is a 400 and GET is a 405', async () => {
    for (const body of ['[1]', '{"ready":"yes"}', '{']) {
      const r = await router.handle(request('POST', '/v2/repository/index', body));
      expect(r.status).toBe(400);
      expect(json(r)).toEqual({ error: expect.any(String) as string });
    }
    expect((await router.handle(request('GET', '/v2/repository/index'))).status).toBe(405);
  });

  test('metadata carries the description, labels and preprocess a package has, and a bare one none', async () => {
    const m = json(await router.handle(request('GET', '/v2/models/described'))) as Record<string, unknown>;
    expect(m.parameters).toEqual({
      description: 'three classes',
      labels: ['cat', 'dog', 'eel'],
      preprocess: { layout: 'flat', range: [0, 1], channels: 'gray' },
    });
    expect(described.metadata().parameters).toEqual(m.parameters);
    const b = json(await router.handle(request('GET', '/v2/models/tiny-mlp'))) as Record<string, unknown>;
    expect(b).not.toHaveProperty('parameters');
  });

  test('a labels file that is not an array of strings stops the load, naming the file', async () => {
    const pkg = await makeTinyMlpPackage(tempDir(), { extras: { labels: ['a', 'b', 'c'] } });
    writeFileSync(join(pkg.dir, 'labels.json'), '{"0": "a"}');
    await expect(InferenceEngine.load(pkg.dir)).rejects.toThrow(/labels\.json is not a JSON array of label strings/);
  });
});
