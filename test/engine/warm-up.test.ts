/**
 * Warm-up on every new instance: the serving fronts answer the package's first golden sample before
 * they report ready, and refuse a package whose answer no longer matches its recording: `serve` answers
 * 503 with the reason, and a Lambda INIT fails. `verify` still loads such a package, to report it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWarmEngine, warmUp } from '../../lib/engine/warm-up';
import { InferenceEngine } from '../../lib/engine/engine';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { GoldenResponse } from '../../lib/package/golden';
import { verifyPackage } from '../../lib/package/verify';
import { restEvent } from '../contract/fronts';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { errorMessage, send } from '../helpers/http';
import { LAMBDA_CONTEXT, loadInferenceHandler } from '../helpers/lambda-init';

const KEY = 'warm-up-key-0123456789abcdef';
const AUTH = { 'x-api-key': KEY };

let sound: FixturePackage;
let drifted: FixturePackage;
let secondDrifted: FixturePackage;

/** Moves one recorded logit of sample `i` by 0.5, far outside the FP32 tolerance. */
function driftGolden(dir: string, i: number): void {
  const file = join(dir, `samples/${i}.response.json`);
  const golden = JSON.parse(readFileSync(file, 'utf8')) as { outputs: Array<{ name: string; data: number[] }> };
  golden.outputs.find((o) => o.name === 'logits')!.data[1] += 0.5;
  writeFileSync(file, JSON.stringify(golden));
}

beforeAll(async () => {
  const work = tempDir('modelship-warm-up-');
  sound = await makeTinyMlpPackage(work, { name: 'sound-mlp' });
  drifted = await makeTinyMlpPackage(work, { name: 'drifted-mlp', seed: 3 });
  driftGolden(drifted.dir, 0);
  secondDrifted = await makeTinyMlpPackage(work, { name: 'second-drifted-mlp', seed: 5 });
  driftGolden(secondDrifted.dir, 1);
});

describe('loadWarmEngine', () => {
  test('answers and checks the first golden sample', async () => {
    const { engine, warmUp: report } = await loadWarmEngine(sound.dir);
    try {
      expect({ ...report, durationMs: typeof report.durationMs }).toEqual({
        sample: 'samples/0.request.json',
        checked: true,
        durationMs: 'number',
      });
    } finally {
      await engine.release();
    }
  });

  test('refuses a package whose first golden sample no longer matches, naming the sample, the output and the element', async () => {
    await expect(loadWarmEngine(drifted.dir)).rejects.toThrow(
      new RegExp(
        `^${join(drifted.dir, 'samples/0.request.json')}: the warm-up answer does not match samples/0\\.response\\.json, so the package is not served: ` +
          `output 'logits' differs in 1 of 3 elements; first at element 1: .*\\(\\|diff\\| 0\\.500 > tolerance`,
      ),
    );
  });

  test('checks only the first sample: the others are for verify and the canary', async () => {
    const { engine } = await loadWarmEngine(secondDrifted.dir);
    await engine.release();
    expect((await verifyPackage(secondDrifted.dir)).problems).toEqual([
      expect.stringMatching(/samples\/1\.request\.json: output 'logits' differs in 1 of 3 elements; first at element 1/),
    ]);
  });

  test('a package without golden samples warms up on a synthetic request, unchecked', async () => {
    const bare = await makeTinyMlpPackage(tempDir(), { name: 'bare-mlp', extras: { samples: [] } });
    const engine = await InferenceEngine.load(bare.dir);
    try {
      expect(engine.manifest.samples).toEqual([]);
      const report = await warmUp(engine);
      expect({ ...report, durationMs: typeof report.durationMs }).toEqual({ sample: 'synthetic', checked: false, durationMs: 'number' });
    } finally {
      await engine.release();
    }
  });

  test('verify still loads the drifted package, and reports the mismatch', async () => {
    const report = await verifyPackage(drifted.dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.stringMatching(/samples\/0\.request\.json: output 'logits' differs in 1 of 3 elements; first at element 1/),
    ]);
  });
});

describe('serve', () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer({
      dirs: [sound.dir, drifted.dir],
      port: 0,
      config: parseServerConfig({
        plans: { open: { rateLimit: 1000, burstLimit: 1000 } },
        apiKeys: [{ name: 't', value: KEY, plan: 'open' }],
      }),
      page: false,
    });
  });
  afterAll(() => running.close());

  test('serves the sound package', async () => {
    const r = await send(`${running.url}/v2/models/sound-mlp/ready`, { headers: AUTH });
    expect(r.status).toBe(200);
  });

  test('answers 503 for the drifted package, with the reason and no server path', async () => {
    for (const route of ['ready', 'infer']) {
      const r = await send(`${running.url}/v2/models/drifted-mlp/${route}`, {
        headers: AUTH,
        body: route === 'infer' ? readFileSync(join(drifted.dir, 'samples/0.request.json')) : undefined,
      });
      expect(r.status).toBe(503);
      expect(errorMessage(r)).toMatch(/samples\/0\.request\.json: the warm-up answer does not match samples\/0\.response\.json/);
      expect(errorMessage(r)).not.toContain(drifted.dir);
    }
    const ready = await send(`${running.url}/v2/health/ready`, { headers: AUTH });
    expect(ready.status).toBe(503);
  });
});

describe('Lambda INIT', () => {
  let savedEnv: NodeJS.ProcessEnv;
  beforeEach(() => {
    savedEnv = { ...process.env };
  });
  afterEach(() => {
    process.env = savedEnv;
  });

  const infer = (pkg: FixturePackage, handler: ReturnType<typeof loadInferenceHandler>) =>
    handler(
      restEvent({
        method: 'POST',
        path: `/v2/models/${pkg.name}/infer`,
        headers: { 'content-type': 'application/json' },
        body: readFileSync(join(pkg.dir, 'samples/0.request.json')),
      }),
      LAMBDA_CONTEXT,
    );

  test('a sound package answers its golden sample', async () => {
    const handler = loadInferenceHandler('http://127.0.0.1:9', { MODEL_DIR: sound.dir });
    const r = await infer(sound, handler);
    expect(r.statusCode).toBe(200);
    const expected = JSON.parse(readFileSync(join(sound.dir, 'samples/0.response.json'), 'utf8')) as GoldenResponse;
    expect((JSON.parse(r.body) as GoldenResponse).outputs.map((o) => o.name)).toEqual(expected.outputs.map((o) => o.name));
  });

  test('a drifted package fails the init with the warm-up reason', async () => {
    const handler = loadInferenceHandler('http://127.0.0.1:9', { MODEL_DIR: drifted.dir });
    await expect(infer(drifted, handler)).rejects.toThrow(/the warm-up answer does not match samples\/0\.response\.json/);
  });
});
