/**
 * SageMakerModel serving a ModelPackage.fromRegistry: no asset is built, the SageMaker model reads the
 * Triton artifact `modelship publish` put next to the tarball, its execution role may read exactly that
 * one object, the API answers metadata from the manifest given, what cannot work is refused at synth, and
 * cdk-nag finds nothing unacknowledged. Every stack is built before the first synth.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ModelApi, modelMetadataJson } from '../../lib/constructs/model-api';
import { ModelPackage } from '../../lib/constructs/model-package';
import { ModelRegistry, RegistryEncryption } from '../../lib/constructs/model-registry';
import { SageMakerModel } from '../../lib/constructs/sagemaker-model';
import { type Manifest, readManifest } from '../../lib/package/manifest';
import { sagemakerArtifactKey } from '../../lib/registry/location';
import { makeGpuPackage } from './gpu-fixtures';
import { projectContext, testApp, type TestApp } from './synth-helpers';

const SHA = 'c'.repeat(64);

let t: TestApp;
let manifest: Manifest;
let owned: { stack: Stack; registry: ModelRegistry; model: SageMakerModel; pkg: ModelPackage };
let imported: { stack: Stack; model: SageMakerModel };

function logicalId(s: Stack, c: { node: { defaultChild?: unknown } }): string {
  return s.getLogicalId(c.node.defaultChild as never);
}

/** The statements of every policy attached to `role`. */
function statementsOf(s: Stack, role: iam.IRole): Array<{ Action: string | string[]; Resource: unknown }> {
  const policies = Template.fromStack(s).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: logicalId(s, role) }] },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties
        .PolicyDocument.Statement,
  );
}

/** The statements granting any s3: or kms: action. */
function storageStatements(s: Stack, role: iam.IRole): unknown[] {
  return statementsOf(s, role).filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:') || a.startsWith('kms:')));
}

function findings(s: Stack): string[] {
  const report = new AwsSolutionsChecks(t.app, { verbose: true }).validateScope(s);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`));
}

beforeAll(async () => {
  t = testApp();
  manifest = readManifest(await makeGpuPackage());

  // GIVEN a registry owned by the stack, SSE-KMS, and a gpu model from it behind an API.
  {
    const stack = t.stack('Owned');
    const registry = new ModelRegistry(stack, 'Registry', { prefix: 'models', encryption: RegistryEncryption.KMS });
    const pkg = ModelPackage.fromRegistry(registry, manifest.name, manifest.version, { tarballSha256: SHA, manifest });
    const model = new SageMakerModel(stack, 'Model', { modelPackage: pkg });
    new ModelApi(stack, 'Api').addModel(model);
    owned = { stack, registry, model, pkg };
  }
  // GIVEN a registry in another stack or account, imported by bucket name, SSE-S3.
  {
    const stack = t.stack('Imported');
    const registry = ModelRegistry.fromBucketName(stack, 'Registry', 'acme-models', { prefix: 'prod' });
    const model = new SageMakerModel(stack, 'Model', {
      modelPackage: ModelPackage.fromRegistry(registry, manifest.name, manifest.version, { tarballSha256: SHA, manifest }),
    });
    imported = { stack, model };
  }
});

afterAll(() => t.cleanup());

describe('the model data', () => {
  test('GIVEN an owned registry WHEN synthesized THEN ModelDataUrl is exactly s3://<the registry bucket>/<prefix>/<name>/<version>/sagemaker/model.tar.gz', () => {
    // WHEN
    const template = Template.fromStack(owned.stack);
    // THEN
    template.resourceCountIs('AWS::SageMaker::Model', 1);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        ModelDataUrl: {
          'Fn::Join': [
            '',
            ['s3://', { Ref: logicalId(owned.stack, owned.registry.bucket) }, '/models/tiny-gpu/1.0.0/sagemaker/model.tar.gz'],
          ],
        },
        Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'tiny-gpu' },
      },
    });
  });

  test('GIVEN an imported registry WHEN synthesized THEN ModelDataUrl names its bucket and prefix literally', () => {
    Template.fromStack(imported.stack).hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelDataUrl: 's3://acme-models/prod/tiny-gpu/1.0.0/sagemaker/model.tar.gz' },
    });
    expect(imported.model.modelDataUrl).toBe('s3://acme-models/prod/tiny-gpu/1.0.0/sagemaker/model.tar.gz');
  });

  test('GIVEN a registry package WHEN synthesized THEN no artifact is built: no asset child, no asset in the cloud assembly', () => {
    expect(imported.model.artifact).toBeUndefined();
    expect(imported.model.node.tryFindChild('Artifact')).toBeUndefined();
    expect(owned.model.node.tryFindChild('Artifact')).toBeUndefined();
    const assembly = t.app.synth();
    expect(assembly.getStackByName('Imported').assets).toEqual([]);
    const fileAssets = assembly.getStackByName('Owned').assets.map((a) => JSON.stringify(a));
    expect(fileAssets.filter((a) => a.includes('.gz'))).toEqual([]);
  });

  test('the key the construct reads is the key `modelship publish` writes', () => {
    expect(owned.registry.sagemakerArtifactKey('tiny-gpu', '1.0.0')).toBe(
      sagemakerArtifactKey({ bucket: 'any', prefix: 'models' }, 'tiny-gpu', '1.0.0'),
    );
    expect(owned.registry.sagemakerArtifactKey('tiny-gpu', '1.0.0')).toBe('models/tiny-gpu/1.0.0/sagemaker/model.tar.gz');
  });
});

describe('least privilege', () => {
  test('GIVEN an SSE-KMS registry THEN the execution role may get exactly the artifact object and decrypt with the registry key, nothing broader on S3', () => {
    const s = owned.stack;
    const bucket = logicalId(s, owned.registry.bucket);
    expect(storageStatements(s, owned.model.role)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/models/tiny-gpu/1.0.0/sagemaker/model.tar.gz']] },
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [logicalId(s, owned.registry.encryptionKey as kms.Key), 'Arn'] },
      },
    ]);
    // AND the package tarball itself is not readable: SageMaker needs only its artifact
    expect(JSON.stringify(statementsOf(s, owned.model.role))).not.toContain('package.tgz');
  });

  test('GIVEN an imported SSE-S3 registry THEN the exact object ARN, and nothing for KMS', () => {
    expect(storageStatements(imported.stack, imported.model.role)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-models/prod/tiny-gpu/1.0.0/sagemaker/model.tar.gz']] },
      },
    ]);
  });

  test('the model is created after the policy that lets the role read the artifact', () => {
    const s = imported.stack;
    const template = Template.fromStack(s);
    const policies = Object.keys(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalId(s, imported.model.role) }] } }),
    );
    expect(policies).toHaveLength(1);
    template.hasResource('AWS::SageMaker::Model', { DependsOn: Match.arrayWith([policies[0]]) });
  });
});

test('GIVEN a registry model in a ModelApi THEN metadata is answered from the manifest given', () => {
  Template.fromStack(owned.stack).hasResourceProperties('AWS::ApiGateway::Method', {
    HttpMethod: 'GET',
    Integration: Match.objectLike({
      Type: 'MOCK',
      IntegrationResponses: Match.arrayWith([
        Match.objectLike({ StatusCode: '200', ResponseTemplates: { 'application/json': modelMetadataJson(owned.pkg) } }),
      ]),
    }),
  });
});

test('AwsSolutions: no unacknowledged finding in stacks with a registry-sourced SageMaker model', () => {
  expect(findings(owned.stack)).toEqual([]);
  expect(findings(imported.stack)).toEqual([]);
});

describe('refused at synth', () => {
  function make(options: { manifest?: Manifest; tritonConfig?: { maxBatchSize: number } }): () => SageMakerModel {
    return () => {
      const stack = new Stack(new App({ context: projectContext() }), 'Bad');
      const registry = ModelRegistry.fromBucketName(stack, 'Registry', 'acme-models');
      const pkg = ModelPackage.fromRegistry(registry, 'tiny-gpu', '1.0.0', { tarballSha256: SHA, manifest: options.manifest });
      return new SageMakerModel(stack, 'Model', { modelPackage: pkg, tritonConfig: options.tritonConfig });
    };
  }

  test('GIVEN a registry package without a manifest WHEN given to SageMakerModel THEN an Error naming the missing `manifest` option', () => {
    expect(make({})).toThrow(
      /SageMakerModel: tiny-gpu@1\.0\.0 from the registry \(s3:\/\/acme-models\/tiny-gpu\/1\.0\.0\) needs its manifest: pass the `manifest` option to ModelPackage\.fromRegistry/,
    );
  });

  test('GIVEN a registry package and tritonConfig THEN an Error: the published artifact uses the default Triton options', () => {
    expect(make({ manifest, tritonConfig: { maxBatchSize: 8 } })).toThrow(
      /tritonConfig cannot be applied to tiny-gpu@1\.0\.0 from the registry .*built by `modelship publish` with the default Triton options/,
    );
  });

  test('GIVEN a registry package whose manifest targets cpu THEN the target is refused, naming its registry location', () => {
    expect(make({ manifest: { ...manifest, target: 'cpu' } })).toThrow(
      /SageMakerModel serves gpu packages; tiny-gpu 1\.0\.0 \(s3:\/\/acme-models\/tiny-gpu\/1\.0\.0\) targets cpu/,
    );
  });
});
