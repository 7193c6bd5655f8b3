/**
 * The inference handler's init from the model registry, against a real S3-compatible server (s3rver on
 * 127.0.0.1) through the real @aws-sdk/client-s3 that the handler creates itself (`new S3Client({})`,
 * configured only by the environment, as in Lambda): the right package loads and answers, and a tampered
 * one (a wrong sha256, or the object's bytes replaced) refuses to load with an error naming both hashes.
 */
import type { PutLifecycleEventHookExecutionStatusCommandInput } from '@aws-sdk/client-codedeploy';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishPackage, type PublishResult } from '../../lib/registry';
import { compareOutputs, type GoldenResponse } from '../../lib/package/golden';
import { readManifest } from '../../lib/package/manifest';
import { restEvent } from '../contract/fronts';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { BUCKET, corruptOnDisk, startLocalS3, type LocalS3 } from '../registry/s3-server';
import { type InferenceHandler, LAMBDA_CONTEXT, loadInferenceHandler, setFunctionEnv as setLocalFunctionEnv } from '../helpers/lambda-init';

type Handler = InferenceHandler;

const REGISTRY = { bucket: BUCKET, prefix: 'lambda-init' };
const context = LAMBDA_CONTEXT;

let s3: LocalS3;
let pkg: FixturePackage;
let published: PublishResult;
let savedEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  s3 = await startLocalS3();
  pkg = await makeTinyMlpPackage(tempDir(), { version: '1.0.0' });
  published = await publishPackage({ client: s3.client, registry: REGISTRY, dir: pkg.dir });
});
afterAll(() => s3.close());

beforeEach(() => {
  savedEnv = { ...process.env };
});
// The SDK reads its configuration from the environment when it first sends, after the module has loaded:
// the environment stays as the function's until the test ends.
afterEach(() => {
  process.env = savedEnv;
});

function setFunctionEnv(env: Record<string, string>): void {
  setLocalFunctionEnv(s3.endpoint, env);
}

function loadHandler(env: Record<string, string>): Handler {
  return loadInferenceHandler(s3.endpoint, env);
}

function registryEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    MODEL_S3_BUCKET: BUCKET,
    MODEL_S3_KEY: published.key,
    MODEL_SHA256: published.sha256,
    MODEL_NAME: pkg.name,
    MODEL_VERSION: pkg.version,
    MODEL_CACHE_DIR: tempDir('modelship-cache-'),
    ...overrides,
  };
}

async function infer(handler: Handler): Promise<{ statusCode: number; body: string }> {
  const body = readFileSync(join(pkg.dir, 'samples/0.request.json'));
  return handler(
    restEvent({
      method: 'POST',
      path: `/v2/models/${pkg.name}/versions/${pkg.version}/infer`,
      headers: { 'content-type': 'application/json' },
      body,
    }),
    context,
  );
}

test('the published package is fetched, checked, cached under <cache>/<sha256>, and answers its golden sample', async () => {
  // GIVEN a package published to the registry, and a function configured with its key and sha256
  const env = registryEnv();
  const handler = loadHandler(env);
  // WHEN an infer request arrives
  const result = await infer(handler);
  // THEN it is answered with the package's golden outputs
  expect(result.statusCode).toBe(200);
  const golden = JSON.parse(readFileSync(join(pkg.dir, 'samples/0.response.json'), 'utf8')) as GoldenResponse;
  const answer = JSON.parse(result.body) as { model_name: string; model_version: string; outputs: GoldenResponse['outputs'] };
  expect([answer.model_name, answer.model_version]).toEqual([pkg.name, pkg.version]);
  expect(compareOutputs(golden.outputs, answer.outputs, readManifest(pkg.dir).samples[0].tolerance)).toEqual([]);
  // AND the package sits in the cache, keyed by the tarball's sha256
  expect(readManifest(join(env.MODEL_CACHE_DIR, published.sha256)).model.sha256).toBe(readManifest(pkg.dir).model.sha256);
});

test('a warm start (a new module on the same /tmp) loads the cached package without S3', async () => {
  // GIVEN a function whose cache already holds the package
  const env = registryEnv();
  expect((await infer(loadHandler(env))).statusCode).toBe(200);
  // WHEN it initializes again with S3 unreachable
  const handler = loadHandler({ ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' });
  // THEN it still answers, from the cache
  expect((await infer(handler)).statusCode).toBe(200);
});

test('a wrong sha256 refuses to load, naming both hashes, and installs nothing', async () => {
  // GIVEN a function told to expect other bytes than the registry holds
  const wrong = 'f'.repeat(64);
  const env = registryEnv({ MODEL_SHA256: wrong });
  const handler = loadHandler(env);
  // WHEN it is invoked THEN the init error says what was found and what was expected
  const error = await infer(handler).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  expect(error).toBeInstanceOf(Error);
  expect(error!.name).toBe('IntegrityError');
  expect(error!.message).toContain(`the model package s3://${BUCKET}/${published.key} refuses to load`);
  expect(error!.message).toContain(`has sha256 ${published.sha256} but ${wrong} was expected`);
  expect(existsSync(join(env.MODEL_CACHE_DIR, wrong))).toBe(false);
});

test("object bytes replaced behind the registry's back refuse to load", async () => {
  // GIVEN a second version whose stored object is then corrupted on the server's disk
  const other = await makeTinyMlpPackage(tempDir(), { version: '1.0.1' });
  const result = await publishPackage({ client: s3.client, registry: REGISTRY, dir: other.dir });
  corruptOnDisk(s3.objectFile(result.key));
  const env = registryEnv({ MODEL_S3_KEY: result.key, MODEL_SHA256: result.sha256, MODEL_VERSION: '1.0.1' });
  // WHEN the function initializes THEN it refuses, naming the hash it expected
  const error = await infer(loadHandler(env)).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  expect(error?.message).toMatch(new RegExp(`s3://${BUCKET}/${result.key} has sha256 [0-9a-f]{64} but ${result.sha256} was expected`));
  expect(existsSync(join(env.MODEL_CACHE_DIR, result.sha256))).toBe(false);
});

test('another package at the key, with its own matching sha256, is refused by name and version', async () => {
  // GIVEN the tarball of tiny-mlp@1.0.0 copied to where 9.9.9 should be, and the function told its real sha256
  const key = `${REGISTRY.prefix}/tiny-mlp/9.9.9/package.tgz`;
  const bytes = readFileSync(s3.objectFile(published.key));
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
  const env = registryEnv({ MODEL_S3_KEY: key, MODEL_VERSION: '9.9.9' });
  // WHEN / THEN
  await expect(infer(loadHandler(env))).rejects.toThrow(/holds tiny-mlp@1.0.0, but this function serves tiny-mlp@9.9.9/);
});

test('a registry configuration without its sha256 fails the init at once, naming the variable', () => {
  const env = registryEnv();
  delete (env as Record<string, string | undefined>).MODEL_SHA256;
  expect(() => loadHandler(env)).toThrow(/environment variable MODEL_SHA256 is not set/);
});

describe('the pre-traffic hook of a registry package', () => {
  const EVENT = { DeploymentId: 'd-REGISTRY', LifecycleEventHookExecutionId: 'hook-exec-1' };
  type HookResult = { status: string; problems: string[] };

  /** Loads lambda/pre-traffic.ts with Lambda and CodeDeploy mocked; S3 is the local server. Invoke runs `target`. */
  function loadHook(
    env: Record<string, string>,
    target: Handler,
  ): { handler: (e: typeof EVENT) => Promise<HookResult>; reports: () => PutLifecycleEventHookExecutionStatusCommandInput[] } {
    setFunctionEnv(env);
    Object.assign(process.env, {
      TARGET_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:tiny-mlp:3',
      INVOKE_TIMEOUT_MS: '20000',
      ...env,
    });
    let hook: ReturnType<typeof loadHook> | undefined;
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
      lambdaMock.on(lambdaSdk.InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => ({
        StatusCode: 200,
        Payload: Buffer.from(JSON.stringify(await target(JSON.parse(Buffer.from(input.Payload).toString('utf8')), context))),
      }));
      codedeployMock.on(codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).resolves({});
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh hook per test needs a synchronous load inside isolateModules
      const { handler } = require('../../lambda/pre-traffic') as typeof import('../../lambda/pre-traffic');
      hook = {
        handler,
        reports: () => codedeployMock.commandCalls(codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input),
      };
    });
    return hook!;
  }

  test('fetches the package itself and checks the version against its golden samples', async () => {
    // GIVEN the version under test, itself loaded from the registry
    const target = loadHandler(registryEnv());
    // WHEN the hook, configured with the same object and sha256, runs
    const hook = loadHook(registryEnv(), target);
    const result = await hook.handler(EVENT);
    // THEN it reports Succeeded to CodeDeploy
    expect(result).toEqual({ status: 'Succeeded', problems: [] });
    expect(hook.reports().map((r) => r.status)).toEqual(['Succeeded']);
  });

  test('a tarball that fails its sha256 reports Failed, naming both hashes', async () => {
    // The hook fails before it invokes the version, so none is loaded: an init left running would outlive the test.
    const target: Handler = () => Promise.reject(new Error('the hook invoked the version after its own check failed'));
    const wrong = 'e'.repeat(64);
    const hook = loadHook(registryEnv({ MODEL_SHA256: wrong }), target);
    const result = await hook.handler(EVENT);
    expect(result.status).toBe('Failed');
    expect(result.problems).toEqual([expect.stringContaining(`has sha256 ${published.sha256} but ${wrong} was expected`)]);
    expect(hook.reports().map((r) => r.status)).toEqual(['Failed']);
  });
});
