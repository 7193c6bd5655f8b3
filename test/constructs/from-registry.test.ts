/**
 * ModelPackage.fromRegistry with LambdaModel: nothing is copied into the function's code, the function and
 * its pre-traffic hook are told where the tarball is and which sha256 it must have, each may read exactly
 * that one object, a new sha256 makes a new version, and cdk-nag finds nothing unacknowledged.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelApi } from '../../lib/constructs/model-api';
import { ModelPackage } from '../../lib/constructs/model-package';
import { ModelRegistry, RegistryEncryption } from '../../lib/constructs/model-registry';
import { readManifest } from '../../lib/package/manifest';
import { testApp, type TestApp } from './synth-helpers';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const MNIST = join(__dirname, '..', '..', 'models', 'mnist-mlp');
const MiB = 1024 * 1024;

let t: TestApp;
const stacks: Record<string, Stack> = {};
const models: Record<string, LambdaModel> = {};
const registries: Record<string, ModelRegistry> = {};

function logicalId(s: Stack, c: { node: { defaultChild?: unknown } }): string {
  return s.getLogicalId(c.node.defaultChild as never);
}

/** The statements of every policy attached to `role`. */
function statementsOf(s: Stack, role: iam.IRole): unknown[] {
  const policies = Template.fromStack(s).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: logicalId(s, role) }] },
  });
  return Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
  );
}

function s3Statements(s: Stack, role: iam.IRole): unknown[] {
  return statementsOf(s, role).filter(
    (st) =>
      JSON.stringify((st as { Action: unknown }).Action).includes('s3:') ||
      JSON.stringify((st as { Action: unknown }).Action).includes('kms:'),
  );
}

function findings(s: Stack): string[] {
  const report = new AwsSolutionsChecks(t.app, { verbose: true }).validateScope(s);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`));
}

beforeAll(() => {
  t = testApp();

  // A registry owned by the stack, SSE-KMS, with a model served from it behind an API.
  const owned = t.stack('Owned');
  registries.owned = new ModelRegistry(owned, 'Registry', { prefix: 'models', encryption: RegistryEncryption.KMS });
  const pkg = ModelPackage.fromRegistry(registries.owned, 'mnist-mlp', '1.0.0', { tarballSha256: SHA_A, modelBytes: 400 * MiB });
  models.owned = new LambdaModel(owned, 'Model', { modelPackage: pkg });
  new ModelApi(owned, 'Api').addModel(models.owned);
  stacks.owned = owned;

  // The same model from a registry in another stack, imported by name, in two stacks that differ only by sha256.
  for (const [id, sha256] of [
    ['ImportedA', SHA_A],
    ['ImportedB', SHA_B],
  ] as const) {
    const s = t.stack(id);
    const registry = ModelRegistry.fromBucketName(s, 'Registry', 'acme-models', { prefix: 'prod' });
    models[id] = new LambdaModel(s, 'Model', {
      modelPackage: ModelPackage.fromRegistry(registry, 'mnist-mlp', '1.0.0', { tarballSha256: sha256 }),
    });
    stacks[id] = s;
  }

  // With the manifest given: the hook's timeout follows the sample count.
  const withManifest = t.stack('WithManifest');
  const manifest = readManifest(MNIST);
  const imported = ModelRegistry.fromBucketName(withManifest, 'Registry', 'acme-models');
  models.withManifest = new LambdaModel(withManifest, 'Model', {
    modelPackage: ModelPackage.fromRegistry(imported, manifest.name, manifest.version, { tarballSha256: SHA_A, manifest }),
  });
  stacks.withManifest = withManifest;
});

afterAll(() => t.cleanup());

describe('the function', () => {
  test('is told where the tarball is and which sha256 it must have, and has no MODEL_DIR', () => {
    const s = stacks.owned;
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: {
          MODEL_S3_BUCKET: { Ref: logicalId(s, registries.owned.bucket) },
          MODEL_S3_KEY: 'models/mnist-mlp/1.0.0/package.tgz',
          MODEL_SHA256: SHA_A,
          MODEL_NAME: 'mnist-mlp',
          MODEL_VERSION: '1.0.0',
          MODEL_DIR: Match.absent(),
          POWERTOOLS_SERVICE_NAME: 'mnist-mlp',
          POWERTOOLS_METRICS_NAMESPACE: 'modelship',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
    });
  });

  test('its code holds the handler only: no package is copied into the asset', () => {
    const fn = models.owned.lambdaFunction.node.defaultChild as lambda.CfnFunction;
    const code = Stack.of(fn).resolve(fn.code) as { s3Key: string };
    const asset = join(t.outdir, `asset.${code.s3Key.replace(/\.zip$/, '')}`);
    expect(readdirSync(asset).sort()).toEqual(['index.js', 'node_modules']);
    // zod and tar-stream, which the fetch needs, are bundled apart (lib/constructs/private/inference-bundle.ts).
    expect(readdirSync(join(asset, 'node_modules')).sort()).toEqual(['tar-stream', 'zod']);
    // The S3 client it fetches with is bundled (lib/constructs/private/inference-bundle.ts); KMS, unused, is not.
    const bundle = readFileSync(join(asset, 'index.js'), 'utf8');
    expect(bundle).not.toContain('require("@aws-sdk/client-s3")');
    expect(bundle).toContain('"GetObjectCommand"');
    expect(bundle).toContain('require("@aws-sdk/client-kms")');
  });

  test('memory, timeout and /tmp are sized from modelBytes', () => {
    // 400 MiB of model: 256 + 3 x 400 = 1456 -> 1472 MiB of memory and /tmp; 10 s + 40 s capped at 29 s
    Template.fromStack(stacks.owned).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MODEL_SHA256: SHA_A }) },
      MemorySize: 1472,
      Timeout: 29,
      EphemeralStorage: { Size: 1472 },
    });
    expect(models.owned.memorySize).toBe(1472);
  });

  test('with no size given: the smallest defaults and a warning that says what to pass', () => {
    Template.fromStack(stacks.ImportedA).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MODEL_S3_BUCKET: 'acme-models', MODEL_S3_KEY: 'prod/mnist-mlp/1.0.0/package.tgz' }) },
      MemorySize: 1024,
      Timeout: 10,
      EphemeralStorage: { Size: 1024 },
    });
    Annotations.fromStack(stacks.ImportedA).hasWarning(
      '/ImportedA/Model',
      Match.stringLikeRegexp('no modelBytes or manifest.*pass modelBytes'),
    );
    expect(Annotations.fromStack(stacks.owned).findWarning('*', Match.stringLikeRegexp('no modelBytes'))).toHaveLength(0);
  });

  test('may read exactly the one tarball object, and decrypt with the registry key', () => {
    const s = stacks.owned;
    const bucket = logicalId(s, registries.owned.bucket);
    const key = logicalId(s, registries.owned.encryptionKey as kms.Key);
    expect(s3Statements(s, models.owned.role)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/models/mnist-mlp/1.0.0/package.tgz']] },
      },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [key, 'Arn'] } },
    ]);
  });

  test('from an imported registry: the exact object ARN, and nothing for KMS', () => {
    expect(s3Statements(stacks.ImportedA, models.ImportedA.role)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-models/prod/mnist-mlp/1.0.0/package.tgz']] },
      },
    ]);
  });

  test('a new sha256 makes a new version', () => {
    const versionId = (s: Stack): string[] => Object.keys(Template.fromStack(s).findResources('AWS::Lambda::Version'));
    const [a, b] = [versionId(stacks.ImportedA), versionId(stacks.ImportedB)];
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]).not.toBe(b[0]);
    // AND the same sha256 makes the same version
    expect(versionId(stacks.withManifest)).toHaveLength(1);
  });
});

describe('the pre-traffic hook', () => {
  test('fetches the package itself: the same object and sha256, its own one-object grant, no golden samples in its code', () => {
    const s = stacks.owned;
    const hook = models.owned.preTrafficHook as lambda.Function;
    const bucket = logicalId(s, registries.owned.bucket);
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TARGET_FUNCTION_ARN: Match.anyValue(),
          MODEL_S3_BUCKET: { Ref: bucket },
          MODEL_S3_KEY: 'models/mnist-mlp/1.0.0/package.tgz',
          MODEL_SHA256: SHA_A,
          GOLDEN_DIR: Match.absent(),
        }),
      },
      // The sample count is unknown at synth: Lambda's maximum, and the hook reports before it runs out.
      Timeout: 900,
      EphemeralStorage: { Size: 1472 },
    });
    expect(s3Statements(s, hook.role!)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/models/mnist-mlp/1.0.0/package.tgz']] },
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [logicalId(s, registries.owned.encryptionKey as kms.Key), 'Arn'] },
      },
    ]);
    const fn = hook.node.defaultChild as lambda.CfnFunction;
    const code = Stack.of(fn).resolve(fn.code) as { s3Key: string };
    expect(readdirSync(join(t.outdir, `asset.${code.s3Key.replace(/\.zip$/, '')}`))).toEqual(['index.js']);
  });

  test('with the manifest given, its timeout follows the sample count', () => {
    const samples = readManifest(MNIST).samples.length;
    const hookTimeout = (models.withManifest.timeout.toSeconds() + 15) * (samples + 1) + 30;
    Template.fromStack(stacks.withManifest).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TARGET_FUNCTION_ARN: Match.anyValue(), MODEL_SHA256: SHA_A }) },
      Timeout: Math.min(900, hookTimeout),
    });
  });
});

test('AwsSolutions: no unacknowledged finding in a stack with a registry and a registry-sourced model', () => {
  expect(findings(stacks.owned)).toEqual([]);
  expect(findings(stacks.ImportedA)).toEqual([]);
});

describe('ModelPackage.fromRegistry', () => {
  test('names the package, and refuses what cannot be right', () => {
    const s = new Stack();
    const registry = ModelRegistry.fromBucketName(s, 'R', 'acme-models');
    const pkg = ModelPackage.fromRegistry(registry, 'mnist-mlp', '1.0.0', { tarballSha256: SHA_A, modelBytes: 1000 });
    expect([
      pkg.name,
      pkg.version,
      pkg.tarballSha256,
      pkg.modelSha256,
      pkg.modelBytes,
      pkg.location,
      pkg.registrySource !== undefined,
    ]).toEqual(['mnist-mlp', '1.0.0', SHA_A, undefined, 1000, 's3://acme-models/mnist-mlp/1.0.0', true]);
    expect(pkg.registrySource).toMatchObject({ key: 'mnist-mlp/1.0.0/package.tgz', tarballSha256: SHA_A });
    expect(pkg.tryGetManifest()).toBeUndefined();
    // Nothing local exists at synth, and constructs that need it say so
    expect(() => pkg.directory).toThrow(
      /mnist-mlp@1.0.0 from the registry .* has no local directory.*served by LambdaModel, which fetches it at init, or by SageMakerModel/,
    );
    expect(() => pkg.manifest).toThrow(/has no manifest at synth/);
    expect(() => ModelPackage.fromRegistry(registry, 'mnist-mlp', '1.0.0', { tarballSha256: 'ABC' })).toThrow(
      /options.tarballSha256 must be 64 lower-case hex digits.*got "ABC"/,
    );
    expect(() => ModelPackage.fromRegistry(registry, 'Mnist', '1.0.0', { tarballSha256: SHA_A })).toThrow(
      /model name "Mnist" is not DNS-safe/,
    );
    expect(() => ModelPackage.fromRegistry(registry, 'mnist-mlp', 'latest', { tarballSha256: SHA_A })).toThrow(
      /version "latest" is not a semantic version/,
    );
    expect(() => ModelPackage.fromRegistry(registry, 'mnist-mlp', '1.0.0', { tarballSha256: SHA_A, modelBytes: 0 })).toThrow(
      /modelBytes must be a positive integer; got 0/,
    );
    const manifest = readManifest(MNIST);
    expect(() => ModelPackage.fromRegistry(registry, 'mnist-mlp', '2.0.0', { tarballSha256: SHA_A, manifest })).toThrow(
      /the manifest given is mnist-mlp@1.0.0/,
    );
    expect(() => ModelPackage.fromRegistry(registry, 'mnist-mlp', '1.0.0', { tarballSha256: SHA_A, manifest, modelBytes: 5 })).toThrow(
      /modelBytes is 5 but the manifest says/,
    );
  });

  test('a gpu manifest is refused by LambdaModel', () => {
    const s = new Stack();
    const registry = ModelRegistry.fromBucketName(s, 'R', 'acme-models');
    const manifest = { ...readManifest(MNIST), target: 'gpu' as const };
    const pkg = ModelPackage.fromRegistry(registry, 'mnist-mlp', '1.0.0', { tarballSha256: SHA_A, manifest });
    // Given its manifest, a registry package knows both hashes, each by its own name.
    expect([pkg.tarballSha256, pkg.modelSha256]).toEqual([SHA_A, manifest.model.sha256]);
    expect(() => new LambdaModel(s, 'M', { modelPackage: pkg })).toThrow(
      /LambdaModel serves cpu packages; mnist-mlp 1.0.0 \(s3:\/\/acme-models\/mnist-mlp\/1.0.0\) targets gpu/,
    );
  });
});
