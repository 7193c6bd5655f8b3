/**
 * EcsGpuModel's lifecycle hook (lambda/ecs-lifecycle-hook.ts) against a local HTTP server standing in
 * for the test listener (test/helpers/test-listener.ts). The new tasks are played by modelship's router
 * over a real package, so "matching" and "different weights" are answers an engine actually gives.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { Manifest } from '../../lib/package/manifest';
import { tempDir } from '../helpers/fixtures';
import { startTestListener, type TestListener } from '../helpers/test-listener';
import { makeGpuPackage } from '../constructs/gpu-fixtures';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

type HookModule = typeof import('../../lambda/ecs-lifecycle-hook');

/** What ECS sends at POST_TEST_TRAFFIC_SHIFT: the common payload of every stage. */
const EVENT = {
  serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/cluster/tiny-gpu',
  targetServiceRevisionArn: 'arn:aws:ecs:eu-west-1:123456789012:service-revision/cluster/tiny-gpu/42',
  testTrafficWeights: { 'arn:aws:ecs:eu-west-1:123456789012:service-revision/cluster/tiny-gpu/42': 100 },
  productionTrafficWeights: { 'arn:aws:ecs:eu-west-1:123456789012:service-revision/cluster/tiny-gpu/41': 100 },
};

/** Loads the hook with `env` in a fresh module registry: its configuration and samples are read at init. */
function loadHook(env: Record<string, string | undefined>): HookModule {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let hook: HookModule | undefined;
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh hook per test needs a synchronous load inside isolateModules
      hook = require('../../lambda/ecs-lifecycle-hook') as HookModule;
    });
  } finally {
    process.env = saved;
  }
  return hook!;
}

function hookEnv(listener: { url: string }, timeoutMs = 20000): Record<string, string> {
  return { TEST_LISTENER_URL: listener.url, GOLDEN_DIR: golden, REQUEST_TIMEOUT_MS: String(timeoutMs) };
}

let golden: string;
let otherWeights: string;
let manifest: Manifest;
const listeners: TestListener[] = [];

async function listener(dir: string, override?: Parameters<typeof startTestListener>[1]): Promise<TestListener> {
  const started = await startTestListener(dir, override);
  listeners.push(started);
  return started;
}

beforeAll(async () => {
  golden = await makeGpuPackage({ gpuPlatform: 'ecs', seed: 7 });
  // Same name and version, different weights: what a bad build or a swapped model file looks like.
  otherWeights = await makeGpuPackage({ gpuPlatform: 'ecs', seed: 8 });
  manifest = JSON.parse(readFileSync(join(golden, 'modelship.json'), 'utf8')) as Manifest;
});

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

describe('new tasks whose answers match the golden samples', () => {
  test("SUCCEEDED, after asking readiness and every sample on the test listener, at Triton's unversioned paths", async () => {
    // GIVEN the hook for package A, and new tasks serving package A behind the test listener
    const tasks = await listener(golden);
    const hook = loadHook(hookEnv(tasks));
    // WHEN ECS runs the hook
    const result = await hook.handler(EVENT);
    // THEN it returns SUCCEEDED, and nothing ECS does not read
    expect(result).toEqual({ hookStatus: 'SUCCEEDED' });
    // AND it asked readiness, then sent each recorded request unchanged, as JSON
    expect(tasks.seen).toEqual([
      { method: 'GET', path: '/v2/models/tiny-gpu/ready', contentType: undefined, body: '' },
      ...manifest.samples.map((s) => ({
        method: 'POST',
        path: '/v2/models/tiny-gpu/infer',
        contentType: 'application/json',
        body: readFileSync(join(golden, s.request), 'utf8'),
      })),
    ]);
  });
});

describe('new tasks that must not take production traffic', () => {
  test('different weights: FAILED, naming the sample and the output that differs', async () => {
    // GIVEN the hook for package A, and new tasks built from other weights under the same name and version
    const hook = loadHook(hookEnv(await listener(otherWeights)));
    // WHEN ECS runs the hook
    const { hookStatus, problems } = await hook.verdict(EVENT);
    // THEN FAILED, saying which answers differ
    expect(hookStatus).toBe('FAILED');
    expect(problems.join('\n')).toMatch(/samples\/0\.request\.json: output '(logits|probabilities)' differs in \d+ of 3 elements/);
    expect(await hook.handler(EVENT)).toEqual({ hookStatus: 'FAILED' });
  });

  test("an error status from Triton: FAILED with the status and Triton's message", async () => {
    // GIVEN tasks that are ready but refuse every infer
    const tasks = await listener(golden, (r) =>
      r.method === 'POST'
        ? { status: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"unexpected inference input \'x\'"}' }
        : undefined,
    );
    const hook = loadHook(hookEnv(tasks));
    // WHEN the hook runs
    const { hookStatus, problems } = await hook.verdict(EVENT);
    // THEN each sample is reported with the status and body
    expect(hookStatus).toBe('FAILED');
    expect(problems[0]).toBe('samples/0.request.json: status 400: {"error":"unexpected inference input \'x\'"}');
    expect(problems).toHaveLength(manifest.samples.length);
  });

  test('a model that is not ready: FAILED on readiness', async () => {
    const tasks = await listener(golden, (r) => (r.path.endsWith('/ready') ? { status: 400, headers: {}, body: '' } : undefined));
    const { hookStatus, problems } = await loadHook(hookEnv(tasks)).verdict(EVENT);
    expect(hookStatus).toBe('FAILED');
    expect(problems[0]).toBe('ready: status 400: ');
  });

  test('a refused connection: FAILED, with the reason, and no further requests', async () => {
    // GIVEN a test listener with nothing behind it any more
    const gone = await listener(golden);
    await gone.close();
    const hook = loadHook(hookEnv(gone));
    // WHEN the hook runs
    const { hookStatus, problems } = await hook.verdict(EVENT);
    // THEN one problem, naming the URL and the socket error
    expect(hookStatus).toBe('FAILED');
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^ready: request to ${gone.url}/v2/models/tiny-gpu/ready failed: .*ECONNREFUSED`)),
    ]);
  });

  test('no answer within REQUEST_TIMEOUT_MS: FAILED, without waiting longer', async () => {
    // GIVEN tasks that accept the connection and never answer, and a 300 ms limit per request
    const tasks = await listener(golden, () => 'hang');
    const hook = loadHook(hookEnv(tasks, 300));
    // WHEN the hook runs
    const started = Date.now();
    const { hookStatus, problems } = await hook.verdict(EVENT);
    // THEN it gives up after the limit, on the first request
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hookStatus).toBe('FAILED');
    expect(problems).toEqual([`ready: no answer from ${tasks.url}/v2/models/tiny-gpu/ready within 300 ms`]);
    expect(tasks.seen).toHaveLength(1);
  });

  test("the function's own time bounds the requests: FAILED when none is left", async () => {
    const tasks = await listener(golden);
    const hook = loadHook(hookEnv(tasks));
    const context = { getRemainingTimeInMillis: () => 4000 } as unknown as Context;
    const { hookStatus, problems } = await hook.verdict(EVENT, context);
    expect(hookStatus).toBe('FAILED');
    expect(problems).toEqual(['ready: no time left to ask the target']);
    expect(tasks.seen).toEqual([]);
  });

  test('unreadable golden samples: FAILED without asking anything', async () => {
    // GIVEN a hook whose golden directory is missing
    const tasks = await listener(golden);
    const hook = loadHook({ ...hookEnv(tasks), GOLDEN_DIR: join(tempDir(), 'missing') });
    // WHEN it runs
    const { hookStatus, problems } = await hook.verdict(EVENT);
    // THEN FAILED, saying why, and the tasks were never asked
    expect(hookStatus).toBe('FAILED');
    expect(problems[0]).toMatch(/golden samples in .*missing cannot be read/);
    expect(tasks.seen).toEqual([]);
  });
});

test.each(['TEST_LISTENER_URL', 'GOLDEN_DIR', 'REQUEST_TIMEOUT_MS'])('missing %s fails the hook at init, naming it', (name) => {
  expect(() => loadHook({ ...hookEnv({ url: 'http://127.0.0.1:9' }), [name]: undefined })).toThrow(
    new RegExp(`environment variable ${name} is not set`),
  );
});
