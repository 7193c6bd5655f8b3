/**
 * ModelRegistry: the bucket's security properties (versioning, encryption, public access block, SSL-only
 * policy, access logs, object lock, lifecycle) and grants scoped to a prefix, a model or one object.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ModelRegistry, RegistryEncryption } from '../../lib/constructs/model-registry';
import { packageKey } from '../../lib/registry/location';
import { projectContext } from './synth-helpers';

/** A stack in an app of its own: these tests bundle nothing, and each synthesizes once. */
function stack(): Stack {
  return new Stack(new App({ context: projectContext() }), 'Registry');
}

function bucketId(s: Stack, registry: ModelRegistry): string {
  return s.getLogicalId(registry.bucket.node.defaultChild as s3.CfnBucket);
}

/** The statements of the one policy attached to `role`. */
function statementsOf(s: Stack, role: iam.Role): unknown[] {
  const policies = Template.fromStack(s).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: s.getLogicalId(role.node.defaultChild as iam.CfnRole) }] },
  });
  return Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
  );
}

function role(s: Stack, id = 'Reader'): iam.Role {
  return new iam.Role(s, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
}

describe('the bucket', () => {
  test('is versioned, SSE-S3 by default, private, TLS 1.2+ only, logged, with lifecycle rules, and retained', () => {
    // GIVEN a registry with defaults
    const s = stack();
    const registry = new ModelRegistry(s, 'Registry');
    // WHEN synthesized
    const template = Template.fromStack(s);
    const id = bucketId(s, registry);
    // THEN the bucket has every security property
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp('^RegistryAccessLogs') },
        LogFilePrefix: 'model-registry/',
      },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-noncurrent-versions-and-abort-uploads',
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            ExpiredObjectDeleteMarker: true,
          },
        ],
      },
      ObjectLockEnabled: Match.absent(),
    });
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({ VersioningConfiguration: { Status: 'Enabled' } }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    // AND its policy denies any request without TLS, or with TLS below 1.2
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
    // AND the log bucket is private, SSL-only, SSE-S3, expires logs, and lets the logging service write
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [{ Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: 365 }] },
      LoggingConfiguration: Match.absent(),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^RegistryAccessLogs') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
        ]),
      },
    });
  });

  test('SSE-KMS creates a key with rotation, and bucket keys cut KMS calls', () => {
    // GIVEN / WHEN a registry with KMS encryption
    const s = stack();
    const registry = new ModelRegistry(s, 'Registry', { encryption: RegistryEncryption.KMS });
    // THEN
    const template = Template.fromStack(s);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [s.getLogicalId(registry.encryptionKey!.node.defaultChild as kms.CfnKey), 'Arn'] },
            },
          },
        ],
      },
    });
  });

  test('a given key means SSE-KMS with that key; S3_MANAGED with a key is refused', () => {
    // GIVEN a key of the app's own
    const s = stack();
    const key = new kms.Key(s, 'Own', { enableKeyRotation: true });
    // WHEN
    const registry = new ModelRegistry(s, 'Registry', { encryptionKey: key });
    // THEN only that key exists and the bucket uses it
    expect(registry.encryptionKey).toBe(key);
    Template.fromStack(s).resourceCountIs('AWS::KMS::Key', 1);
    expect(() => new ModelRegistry(s, 'Bad', { encryption: RegistryEncryption.S3_MANAGED, encryptionKey: key })).toThrow(
      /S3_MANAGED but an encryptionKey is given/,
    );
  });

  test('object lock, custom lifecycle days and a given log bucket', () => {
    // GIVEN a log bucket of the app's own
    const s = stack();
    const logs = new s3.Bucket(s, 'Logs');
    // WHEN the registry locks objects in COMPLIANCE mode for 365 days and keeps noncurrent versions 30 days
    new ModelRegistry(s, 'Registry', {
      objectLockRetention: s3.ObjectLockRetention.compliance(Duration.days(365)),
      noncurrentVersionExpiration: Duration.days(30),
      abortIncompleteMultipartUploadAfter: Duration.days(2),
      accessLogsBucket: logs,
      accessLogsPrefix: 'registry-logs/',
    });
    // THEN
    const template = Template.fromStack(s);
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
          }),
        ],
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: s.getLogicalId(logs.node.defaultChild as s3.CfnBucket) },
        LogFilePrefix: 'registry-logs/',
      },
    });
    // AND no second log bucket was created
    template.resourceCountIs('AWS::S3::Bucket', 2);
  });

  test('GOVERNANCE mode object lock', () => {
    const s = stack();
    new ModelRegistry(s, 'Registry', { objectLockRetention: s3.ObjectLockRetention.governance(Duration.days(30)) });
    Template.fromStack(s).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
    });
  });

  test('bad props are refused, naming the value', () => {
    const s = stack();
    expect(() => new ModelRegistry(s, 'A', { prefix: '/models/' })).toThrow(/registry prefix "\/models\/"/);
    expect(() => new ModelRegistry(s, 'B', { prefix: 'a//b' })).toThrow(/registry prefix "a\/\/b"/);
    expect(() => new ModelRegistry(s, 'C', { noncurrentVersionExpiration: Duration.hours(5) })).toThrow(
      /noncurrentVersionExpiration must be a whole number of days/,
    );
    expect(() => ModelRegistry.fromBucketName(s, 'D', 'Not_A_Bucket')).toThrow(/"Not_A_Bucket" is not a valid S3 bucket name/);
  });
});

describe('keys', () => {
  test("packageKey is lib/registry's layout, under the prefix", () => {
    const s = stack();
    const registry = new ModelRegistry(s, 'Registry', { prefix: 'team/models' });
    expect(registry.packageKey('mnist-mlp', '1.0.0')).toBe('team/models/mnist-mlp/1.0.0/package.tgz');
    expect(registry.packageKey('mnist-mlp', '1.0.0')).toBe(packageKey({ bucket: 'x', prefix: 'team/models' }, 'mnist-mlp', '1.0.0'));
    expect(ModelRegistry.fromBucketName(s, 'Root', 'acme-models').packageKey('a', '2.0.0-rc.1')).toBe('a/2.0.0-rc.1/package.tgz');
    expect(ModelRegistry.fromBucketName(s, 'Uri', 'acme-models', { prefix: 'prod' }).registryUri).toBe('s3://acme-models/prod');
    expect(() => registry.packageKey('MNIST', '1.0.0')).toThrow(/model name "MNIST" is not DNS-safe/);
    expect(() => registry.packageKey('mnist', 'v1')).toThrow(/version "v1" is not a semantic version/);
  });
});

describe('grants', () => {
  test('grantRead of one version: s3:GetObject on exactly that object, nothing else', () => {
    // GIVEN
    const s = stack();
    const registry = new ModelRegistry(s, 'Registry', { prefix: 'models' });
    const reader = role(s);
    // WHEN
    registry.grantRead(reader, 'mnist-mlp', '1.0.0');
    // THEN
    expect(statementsOf(s, reader)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(s, registry), 'Arn'] }, '/models/mnist-mlp/1.0.0/package.tgz']] },
      },
    ]);
  });

  test('grantRead of one version of an imported registry: the exact object ARN string', () => {
    const s = stack();
    const registry = ModelRegistry.fromBucketName(s, 'Registry', 'acme-models', { prefix: 'prod' });
    const reader = role(s);
    registry.grantRead(reader, 'mnist-mlp', '1.0.0');
    expect(statementsOf(s, reader)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-models/prod/mnist-mlp/1.0.0/package.tgz']] },
      },
    ]);
  });

  test('grantRead of a model: its objects, and listing limited to its prefix; with KMS, decrypt', () => {
    const s = stack();
    const registry = new ModelRegistry(s, 'Registry', { encryption: RegistryEncryption.KMS });
    const reader = role(s);
    registry.grantRead(reader, 'mnist-mlp');
    const id = bucketId(s, registry);
    expect(statementsOf(s, reader)).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/mnist-mlp/*']] } },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: { 'Fn::GetAtt': [id, 'Arn'] },
          Condition: { StringLike: { 's3:prefix': ['mnist-mlp/*'] } },
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [s.getLogicalId(registry.encryptionKey!.node.defaultChild as kms.CfnKey), 'Arn'] },
        },
      ]),
    );
    expect(statementsOf(s, reader)).toHaveLength(3);
    expect(() => registry.grantRead(reader, undefined, '1.0.0')).toThrow(/a version needs a model name/);
  });

  test("grantPublish: put, get and abort under the prefix, listing limited to it, and the key's encrypt/decrypt", () => {
    const s = stack();
    const registry = new ModelRegistry(s, 'Registry', { prefix: 'models', encryption: RegistryEncryption.KMS });
    const ci = role(s, 'Publisher');
    registry.grantPublish(ci, 'vision');
    const id = bucketId(s, registry);
    const statements = statementsOf(s, ci);
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/models/vision/*']] },
        },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: { 'Fn::GetAtt': [id, 'Arn'] },
          Condition: { StringLike: { 's3:prefix': ['models/vision/*'] } },
        },
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
          Resource: { 'Fn::GetAtt': [s.getLogicalId(registry.encryptionKey!.node.defaultChild as kms.CfnKey), 'Arn'] },
        },
      ]),
    );
    expect(statements).toHaveLength(3);
    // AND nothing lets it delete
    expect(JSON.stringify(statements)).not.toMatch(/Delete/);
  });

  test('grantRead to another account goes to the bucket policy', () => {
    // GIVEN the registry's owner and a consumer account
    const s = stack();
    const registry = new ModelRegistry(s, 'Registry');
    // WHEN the owner grants the account one version
    registry.grantRead(new iam.AccountPrincipal('222222222222'), 'mnist-mlp', '1.0.0');
    // THEN the bucket policy allows exactly that object to that account
    Template.fromStack(s).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:root']] } },
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(s, registry), 'Arn'] }, '/mnist-mlp/1.0.0/package.tgz']] },
          },
        ]),
      },
    });
  });
});
