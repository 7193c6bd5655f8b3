/**
 * What the Lambda front adds over the contract suite: init-time loading from MODEL_DIR, structured logs
 * with the request id, and EMF metrics by model and version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { makeTinyMlpPackage } from '../helpers/fixtures';
import { restEvent } from '../contract/fronts';

type Handler = (event: unknown, context?: Context) => Promise<{ statusCode: number; body: string }>;

function load(env: Record<string, string | undefined>): { handler: Handler } {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let mod: { handler: Handler } | undefined;
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module per environment needs a synchronous load inside isolateModules
      mod = require('../../lambda/inference') as { handler: Handler };
    });
  } finally {
    process.env = saved;
  }
  return mod!;
}

/** The fields these tests read from a Powertools log line or EMF document written to stdout. */
interface LogLine {
  message?: string;
  _aws?: { CloudWatchMetrics?: Array<{ Namespace: string; Dimensions: string[][] }> };
  InferenceLatency?: unknown;
  InvalidRequests?: number;
}

/** A log line that is an EMF document. */
type EmfDocument = LogLine & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } };

function captureStdout(): { lines: () => LogLine[]; restore: () => void } {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(chunk.toString());
    return true;
  });
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine),
    restore: () => spy.mockRestore(),
  };
}

const context = {
  awsRequestId: 'aws-req-1',
  functionName: 'fn',
  functionVersion: '3',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

test('emits EMF latency and error metrics with model and version dimensions, and logs with the request id', async () => {
  // GIVEN the handler initialised on a package, with metrics and info logs on
  const { dir } = await makeTinyMlpPackage();
  const out = captureStdout();
  try {
    const { handler } = load({
      MODEL_DIR: dir,
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_DEV: undefined,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'modelship-test',
    });
    const request = readFileSync(join(dir, 'samples/0.request.json'));
    // WHEN one good and one bad infer request arrive
    const good = await handler(
      restEvent({ method: 'POST', path: '/v2/models/tiny-mlp/infer', headers: { 'content-type': 'application/json' }, body: request }),
      context,
    );
    const bad = await handler(
      restEvent({ method: 'POST', path: '/v2/models/tiny-mlp/infer', headers: {}, body: Buffer.from('{') }),
      context,
    );
    expect([good.statusCode, bad.statusCode]).toEqual([200, 400]);
  } finally {
    out.restore();
  }
  // THEN each request published one EMF document with the model's dimensions
  const emf = out.lines().filter((l): l is EmfDocument => Boolean(l._aws?.CloudWatchMetrics));
  expect(emf).toHaveLength(2);
  for (const doc of emf) {
    expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe('modelship-test');
    expect(doc._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['model', 'version']));
    expect(doc).toMatchObject({ model: 'tiny-mlp', version: '1.0.0', InferenceErrors: 0 });
    expect(typeof doc.InferenceLatency).toBe('number');
  }
  expect(emf.map((d) => d.InvalidRequests)).toEqual([0, 1]);
  // AND the init log line is structured and names the model
  const loaded = out.lines().find((l) => l.message === 'model loaded');
  expect(loaded).toMatchObject({ level: 'INFO', model: 'tiny-mlp', modelVersion: '1.0.0' });
  // with where INIT's time went: the model read, its sha256 checked, the session created, the warm-up
  const { load: timings, warmUp } = loaded as unknown as { load: Record<string, number>; warmUp: { durationMs: number; checked: boolean } };
  expect(Object.keys(timings).sort()).toEqual(['hashMs', 'readMs', 'sessionMs']);
  for (const ms of [...Object.values(timings), warmUp.durationMs]) expect(ms).toBeGreaterThan(0);
  expect(warmUp.checked).toBe(true);
});

test('keys each log line with the API Gateway request id', async () => {
  const { dir } = await makeTinyMlpPackage();
  const out = captureStdout();
  try {
    const { handler } = load({ MODEL_DIR: dir, POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    await handler(restEvent({ method: 'GET', path: '/v2/health/live', headers: {}, body: new Uint8Array(0) }), context);
  } finally {
    out.restore();
  }
  const answered = out.lines().find((l) => l.message === 'answered');
  expect(answered).toMatchObject({ requestId: 'rest-request-id', status: 200, function_request_id: 'aws-req-1' });
});

test('without MODEL_DIR, init fails naming the variable', () => {
  expect(() => load({ MODEL_DIR: undefined })).toThrow(/environment variable MODEL_DIR is not set/);
});
