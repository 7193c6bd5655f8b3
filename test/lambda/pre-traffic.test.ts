/**
 * The canary's pre-traffic hook (lambda/pre-traffic.ts) against aws-sdk-client-mock. The version under
 * test is played by the real inference handler over a real package, so "matching" and "different
 * weights" are answers the engine actually gives.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PutLifecycleEventHookExecutionStatusCommandInput } from '@aws-sdk/client-codedeploy';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ModelPackage } from '../../lib/constructs/model-package';
import type { Manifest } from '../../lib/package/manifest';
import { generateLocalKeyPair, localSigner } from '../../lib/trust/local-keys';
import { signPackage } from '../../lib/trust/sign-package';
import { loadLambdaHandler } from '../contract/fronts';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
// The tests run on Node 20; the hook itself runs on Lambda's Node 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const TARGET = 'arn:aws:lambda:eu-west-1:123456789012:function:tiny-mlp:7';
const EVENT = { DeploymentId: 'd-ABCDEF123', LifecycleEventHookExecutionId: 'hook-execution-1' };

type InvokeInput = { FunctionName: string; InvocationType: string; Payload: Uint8Array };
type InvokeOutput = { StatusCode?: number; FunctionError?: string; Payload?: Uint8Array };
type Fake = (input: InvokeInput) => Promise<InvokeOutput>;

interface Hook {
  handler: (event: typeof EVENT) => Promise<{ status: string; problems: string[] }>;
  invokes: () => InvokeInput[];
  reports: () => PutLifecycleEventHookExecutionStatusCommandInput[];
}

/**
 * Loads the hook with `env` in a fresh module registry, mocking that registry's SDK clients (the hook
 * creates its clients at init), with Invoke answered by `invoke`.
 */
function loadHook(env: Record<string, string | undefined>, invoke: Fake | Error): Hook {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let hook: Hook | undefined;
  try {
    jest.isolateModules(() => {
      // The SDK, its mocks and the hook must all come from this isolated registry: they load here, synchronously.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module registry needs a synchronous load inside isolateModules
      const { mockClient } = require('aws-sdk-client-mock') as typeof import('aws-sdk-client-mock');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the hook's own copy of the SDK, loaded inside isolateModules
      const lambdaSdk = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the hook's own copy of the SDK, loaded inside isolateModules
      const codedeploySdk = require('@aws-sdk/client-codedeploy') as typeof import('@aws-sdk/client-codedeploy');
      const lambdaMock = mockClient(lambdaSdk.LambdaClient);
      const codedeployMock = mockClient(codedeploySdk.CodeDeployClient);
      if (invoke instanceof Error) lambdaMock.on(lambdaSdk.InvokeCommand).rejects(invoke);
      else lambdaMock.on(lambdaSdk.InvokeCommand).callsFake(invoke);
      codedeployMock
        .on(codedeploySdk.PutLifecycleEventHookExecutionStatusCommand)
        .resolves({ lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh hook per test needs a synchronous load inside isolateModules
      const { handler } = require('../../lambda/pre-traffic') as typeof import('../../lambda/pre-traffic');
      hook = {
        handler,
        invokes: () => lambdaMock.commandCalls(lambdaSdk.InvokeCommand).map((c) => c.args[0].input as InvokeInput),
        reports: () => codedeployMock.commandCalls(codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input),
      };
    });
  } finally {
    process.env = saved;
  }
  return hook!;
}

/** Invoke answered by the real inference handler loaded from `dir`: the version under test. */
function versionServing(dir: string): Fake {
  const handler = loadLambdaHandler(dir);
  return async (input) => {
    const event = JSON.parse(Buffer.from(input.Payload).toString('utf8')) as APIGatewayProxyEvent;
    return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(await handler(event))) };
  };
}

function hookEnv(golden: FixturePackage, timeoutMs = 20000): Record<string, string> {
  return { TARGET_FUNCTION_ARN: TARGET, GOLDEN_DIR: golden.dir, INVOKE_TIMEOUT_MS: String(timeoutMs) };
}

let golden: FixturePackage;
let otherWeights: FixturePackage;

beforeAll(async () => {
  golden = await makeTinyMlpPackage(tempDir(), { seed: 7 });
  // Same name and version, different weights: what a bad build or a swapped model file looks like.
  otherWeights = await makeTinyMlpPackage(tempDir(), { seed: 8 });
});

describe('a version whose answers match its golden samples', () => {
  test('reports Succeeded after checking readiness and every sample on the version under test', async () => {
    // GIVEN the hook for package A, and a new version serving package A
    const hook = loadHook(hookEnv(golden), versionServing(golden.dir));
    // WHEN CodeDeploy runs the hook
    const result = await hook.handler(EVENT);
    // THEN it reports Succeeded for this deployment and hook execution
    expect(result).toEqual({ status: 'Succeeded', problems: [] });
    expect(hook.reports()).toEqual([
      { deploymentId: EVENT.DeploymentId, lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId, status: 'Succeeded' },
    ]);
    // AND it invoked exactly the new version: readiness, then each golden request as a REST API event
    const manifest = JSON.parse(readFileSync(join(golden.dir, 'modelship.json'), 'utf8')) as Manifest;
    const invokes = hook.invokes();
    expect(invokes).toHaveLength(1 + manifest.samples.length);
    for (const input of invokes) expect(input).toMatchObject({ FunctionName: TARGET, InvocationType: 'RequestResponse' });
    const events = invokes.map((i) => JSON.parse(Buffer.from(i.Payload).toString('utf8')) as APIGatewayProxyEvent);
    expect(events[0]).toMatchObject({ httpMethod: 'GET', path: '/v2/models/tiny-mlp/versions/1.0.0/ready', body: null });
    manifest.samples.forEach((s: { request: string }, i: number) => {
      expect(events[i + 1]).toMatchObject({
        httpMethod: 'POST',
        path: '/v2/models/tiny-mlp/versions/1.0.0/infer',
        headers: { 'content-type': 'application/json' },
        body: readFileSync(join(golden.dir, s.request), 'utf8'),
        isBase64Encoded: false,
      });
    });
  });
});

describe('a version that must not take traffic', () => {
  test('different weights: reports Failed, naming the sample and the output that differs', async () => {
    // GIVEN the hook for package A, and a new version built from other weights under the same name and version
    const hook = loadHook(hookEnv(golden), versionServing(otherWeights.dir));
    // WHEN CodeDeploy runs the hook
    const result = await hook.handler(EVENT);
    // THEN it reports Failed, and says which answers differ
    expect(result.status).toBe('Failed');
    expect(result.problems.join('\n')).toMatch(/samples\/0\.request\.json: output '(logits|probabilities)' differs in \d+ of 3 elements/);
    expect(hook.reports()).toEqual([expect.objectContaining({ status: 'Failed', deploymentId: EVENT.DeploymentId })]);
  });

  test('an invoke error: reports Failed and stops invoking', async () => {
    // GIVEN a Lambda API that refuses the invoke
    const refused = Object.assign(new Error('Function not found: tiny-mlp:7'), { name: 'ResourceNotFoundException' });
    const hook = loadHook(hookEnv(golden), refused);
    // WHEN the hook runs
    const result = await hook.handler(EVENT);
    // THEN it reports Failed after the first invoke
    expect(result.status).toBe('Failed');
    expect(result.problems).toEqual(['ready: invoke failed: ResourceNotFoundException: Function not found: tiny-mlp:7']);
    expect(hook.invokes()).toHaveLength(1);
    expect(hook.reports()).toEqual([expect.objectContaining({ status: 'Failed' })]);
  });

  test('a timeout: reports Failed once the invoke outlasts INVOKE_TIMEOUT_MS', async () => {
    // GIVEN a version that never answers, and a 300 ms limit per invoke
    const hook = loadHook(hookEnv(golden, 300), () => new Promise<InvokeOutput>(() => undefined));
    // WHEN the hook runs
    const started = Date.now();
    const result = await hook.handler(EVENT);
    // THEN it gives up after the limit and reports Failed
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toEqual({ status: 'Failed', problems: ['ready: invoke failed: InvokeTimeoutError: no answer within 300 ms'] });
    expect(hook.reports()).toEqual([expect.objectContaining({ status: 'Failed' })]);
  });

  test('a function error (the version crashed in init or in the handler): reports Failed', async () => {
    // GIVEN a version whose invocations fail with an unhandled error
    const crash: Fake = () =>
      Promise.resolve({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: Buffer.from(JSON.stringify({ errorType: 'PackageError', errorMessage: 'refusing to load a tampered model' })),
      });
    const hook = loadHook(hookEnv(golden), crash);
    // WHEN the hook runs
    const result = await hook.handler(EVENT);
    // THEN the error is reported as a failure, with the function's message
    expect(result.status).toBe('Failed');
    expect(result.problems[0]).toMatch(/^ready: the function failed \(Unhandled\): .*tampered model/);
  });

  test('a non-200 answer to a golden sample: reports Failed with the status', async () => {
    // GIVEN a version that is ready but answers infer with 400
    const serving = versionServing(golden.dir);
    const badInfer: Fake = async (input) => {
      const event = JSON.parse(Buffer.from(input.Payload).toString('utf8')) as APIGatewayProxyEvent;
      if (event.httpMethod === 'GET') return serving(input);
      return {
        StatusCode: 200,
        Payload: Buffer.from(JSON.stringify({ statusCode: 400, body: '{"error":"input \'x\' is wrong"}', isBase64Encoded: false })),
      };
    };
    const hook = loadHook(hookEnv(golden), badInfer);
    // WHEN the hook runs
    const result = await hook.handler(EVENT);
    // THEN each sample is reported with its status and body
    expect(result.status).toBe('Failed');
    expect(result.problems[0]).toBe('samples/0.request.json: status 400: {"error":"input \'x\' is wrong"}');
  });

  test('unreadable golden samples: still reports Failed instead of leaving CodeDeploy waiting', async () => {
    // GIVEN a hook whose golden directory is missing
    const hook = loadHook({ ...hookEnv(golden), GOLDEN_DIR: join(tempDir(), 'missing') }, versionServing(golden.dir));
    // WHEN it runs
    const result = await hook.handler(EVENT);
    // THEN it reports Failed without invoking anything
    expect(result.status).toBe('Failed');
    expect(result.problems[0]).toMatch(/golden samples in .*missing cannot be read/);
    expect(hook.invokes()).toHaveLength(0);
    expect(hook.reports()).toEqual([expect.objectContaining({ status: 'Failed' })]);
  });
});

test('missing configuration fails the hook at init, naming the variable', () => {
  // GIVEN no TARGET_FUNCTION_ARN  WHEN the module loads  THEN it throws naming it
  expect(() => loadHook({ ...hookEnv(golden), TARGET_FUNCTION_ARN: undefined }, new Error('unused'))).toThrow(
    /TARGET_FUNCTION_ARN is not set/,
  );
});

describe('with a trust policy: the samples it sends must be the signed ones', () => {
  let hookAsset: string;
  let publicKeyPem: string;

  /** The hook's asset for a signed package: the manifest, the signature and the samples, no model. */
  beforeAll(async () => {
    const work = tempDir();
    const pair = generateLocalKeyPair('ed25519');
    publicKeyPem = pair.publicKeyPem;
    writeFileSync(join(work, 'k.pem'), pair.privateKeyPem);
    await signPackage(golden.dir, await localSigner(join(work, 'k.pem')));
    hookAsset = tempDir('modelship-hook-asset-');
    for (const file of ModelPackage.fromDirectory(golden.dir).goldenFiles)
      cpSync(join(golden.dir, file), join(hookAsset, file), { recursive: true });
  });

  test('signed samples, a version serving them: Succeeded', async () => {
    const hook = loadHook({ ...hookEnv({ ...golden, dir: hookAsset }), MODEL_TRUST_PUBLIC_KEYS: publicKeyPem }, versionServing(golden.dir));
    expect(await hook.handler(EVENT)).toEqual({ status: 'Succeeded', problems: [] });
  });

  test('golden answers rewritten to match a swapped model: Failed on the signature, before any invoke', async () => {
    // GIVEN the hook's samples replaced by those of the other weights, and a version serving the other weights
    const swapped = tempDir('modelship-hook-asset-');
    cpSync(hookAsset, swapped, { recursive: true });
    cpSync(join(otherWeights.dir, 'samples'), join(swapped, 'samples'), { recursive: true });
    const hook = loadHook(
      { ...hookEnv({ ...golden, dir: swapped }), MODEL_TRUST_PUBLIC_KEYS: publicKeyPem },
      versionServing(otherWeights.dir),
    );
    // WHEN the hook runs THEN it fails on the digest of the rewritten answer, and never invokes the version
    const result = await hook.handler(EVENT);
    expect(result.status).toBe('Failed');
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^the golden samples in .* cannot be read: .*samples\/0\.response\.json: digest check failed: sha256 [0-9a-f]{64}, but the signature says/,
      ),
    ]);
    expect(hook.invokes()).toEqual([]);
  });
});
