/**
 * SageMakerModel: the artifact, the model and its image, the endpoint config, the guarded blue/green
 * rollout, auto scaling, metrics and the execution role, as fine-grained template assertions. Every
 * stack is built before the first synth, and each is synthesized once.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ModelPackage } from '../../lib/constructs/model-package';
import { SAGEMAKER_TRITON_ACCOUNTS } from '../../lib/constructs/private/triton-images';
import { SageMakerModel } from '../../lib/constructs/sagemaker-model';
import { SageMakerCapacity, SageMakerTrafficRouting } from '../../lib/constructs/sagemaker-traffic-routing';
import { buildSageMakerArtifact } from '../../lib/triton/sagemaker-artifact';
import { makeTinyMlpPackage } from '../helpers/fixtures';
import { makeGpuPackage } from './gpu-fixtures';
import { findResources, type PolicyDocument, projectContext, roleStatements, testApp, type TestApp } from './synth-helpers';

let t: TestApp;
let pkg: ModelPackage;
let defaults: { stack: Stack; model: SageMakerModel; template: Template };
let custom: { stack: Stack; model: SageMakerModel; template: Template; key: kms.Key; bucket: s3.Bucket; captureKey: kms.Key };
let linear: { model: SageMakerModel; template: Template };
let byo: { role: iam.Role; template: Template };
let regional: Template;

beforeAll(async () => {
  t = testApp();
  pkg = ModelPackage.fromDirectory(await makeGpuPackage());

  {
    const stack = t.stack('Defaults');
    defaults = { stack, model: new SageMakerModel(stack, 'Model', { modelPackage: pkg }), template: undefined as never };
  }
  {
    const stack = t.stack('Custom');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const captureKey = new kms.Key(stack, 'CaptureKey', { enableKeyRotation: true });
    const bucket = new s3.Bucket(stack, 'Capture', { enforceSSL: true });
    const model = new SageMakerModel(stack, 'Model', {
      modelPackage: pkg,
      instanceType: 'ml.g5.2xlarge',
      initialInstanceCount: 2,
      minCapacity: 2,
      maxCapacity: 6,
      targetInvocationsPerInstance: 300,
      imageTag: '24.05-py3',
      tritonConfig: { maxBatchSize: 16 },
      encryptionKey: key,
      dataCapture: { bucket, prefix: 'captured/tiny', samplingPercentage: 20, encryptionKey: captureKey },
      trafficRouting: SageMakerTrafficRouting.canary({ size: SageMakerCapacity.instances(1), waitInterval: Duration.minutes(10) }),
      terminationWait: Duration.minutes(15),
      latencyAlarmThreshold: Duration.millis(250),
      errorsAlarmThreshold: 5,
    });
    custom = { stack, model, key, bucket, captureKey, template: undefined as never };
  }
  {
    const stack = t.stack('Linear');
    linear = {
      model: new SageMakerModel(stack, 'Model', {
        modelPackage: pkg,
        trafficRouting: SageMakerTrafficRouting.LINEAR_10PERCENT_EVERY_5MINUTES,
      }),
      template: undefined as never,
    };
  }
  {
    const stack = t.stack('Byo');
    const role = new iam.Role(stack, 'Mine', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    new SageMakerModel(stack, 'Model', { modelPackage: pkg, role });
    byo = { role, template: undefined as never };
  }
  const regionalStack = new Stack(t.app, 'Regional', { env: { region: 'eu-west-1', account: '111122223333' } });
  new SageMakerModel(regionalStack, 'Model', { modelPackage: pkg });

  defaults.template = Template.fromStack(defaults.stack);
  custom.template = Template.fromStack(custom.stack);
  linear.template = Template.fromStack(linear.model.node.scope as Stack);
  byo.template = Template.fromStack(byo.role.stack);
  regional = Template.fromStack(regionalStack);
});

afterAll(() => t.cleanup());

/** The fields of an AWS::SageMaker::Model these tests read. */
interface SageMakerModelResource {
  readonly PrimaryContainer: {
    readonly Image: unknown;
    readonly ModelDataUrl: { readonly 'Fn::Sub': string };
    readonly Environment: unknown;
  };
  readonly ExecutionRoleArn: unknown;
}

function only(template: Template, type: string): { id: string; props: Readonly<Record<string, unknown>> } {
  const found = findResources(template, type);
  expect(Object.keys(found)).toHaveLength(1);
  const [id, r] = Object.entries(found)[0];
  return { id, props: r.Properties };
}

/** The execution role's statements, each with its resources rendered as text. */
function statements(template: Template, roleId: string): PolicyDocument['Statement'] {
  return roleStatements(template, roleId);
}

describe('the artifact', () => {
  test("GIVEN a gpu package WHEN synthesized THEN model.tar.gz is a file asset whose hash is the tarball's own, and two syntheses give the same hash", () => {
    // GIVEN / WHEN
    const url = (only(defaults.template, 'AWS::SageMaker::Model').props as unknown as SageMakerModelResource).PrimaryContainer.ModelDataUrl[
      'Fn::Sub'
    ];
    // THEN: the object is the single file the bundling wrote, named by the hash of its bytes.
    expect(url).toMatch(/^s3:\/\/cdk-hnb659fds-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/[0-9a-f]{64}\.gz$/);
    const hash = /([0-9a-f]{64})\.gz$/.exec(url)![1];
    const other = new App({ context: projectContext(), outdir: join(t.outdir, 'again') });
    const again = new SageMakerModel(new Stack(other, 'Again'), 'Model', { modelPackage: pkg });
    expect(again.artifact!.assetHash).toBe(hash);
    expect(defaults.model.artifact!.assetHash).toBe(hash);
    // The staged file is a gzip stream (tar inside) written by lib/triton.
    const staged = readFileSync(
      defaults.model
        .artifact!.node.findAll()
        .map((c) => (c as { absoluteStagedPath?: string }).absoluteStagedPath)
        .find((p) => p !== undefined)!,
    );
    expect([...staged.subarray(0, 3)]).toEqual([0x1f, 0x8b, 0x08]);
  });

  test('the staged artifact is byte for byte what buildSageMakerArtifact writes for the package', async () => {
    const staged = defaults.model
      .artifact!.node.findAll()
      .map((c) => (c as { absoluteStagedPath?: string }).absoluteStagedPath)
      .find((p) => p !== undefined)!;
    const direct = join(mkdtempSync(join(tmpdir(), 'modelship-artifact-')), 'model.tar.gz');
    const built = await buildSageMakerArtifact(pkg.directory, direct);
    expect(built.entries).toEqual(['tiny-gpu/config.pbtxt', 'tiny-gpu/warmup/input-0', 'tiny-gpu/1/model.onnx']);
    expect(readFileSync(staged).equals(readFileSync(direct))).toBe(true);
  });

  test('GIVEN tritonConfig WHEN it changes the config THEN the artifact (and so the model) changes', () => {
    const changed = custom.model.artifact!.assetHash;
    expect(changed).not.toBe(defaults.model.artifact!.assetHash);
  });
});

describe('the model and its image', () => {
  test('GIVEN an env-agnostic stack THEN the image account comes from a region mapping of every commercial region', () => {
    const model = only(defaults.template, 'AWS::SageMaker::Model').props as unknown as SageMakerModelResource;
    expect(model.PrimaryContainer.Image).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::FindInMap': ['ModelshipSageMakerTritonAccounts', { Ref: 'AWS::Region' }, 'account'] },
          '.dkr.ecr.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/sagemaker-tritonserver:24.09-py3',
        ],
      ],
    });
    const mapping = (defaults.template.toJSON() as { Mappings: Record<string, Record<string, unknown>> }).Mappings
      .ModelshipSageMakerTritonAccounts;
    expect(Object.keys(mapping).sort()).toEqual(Object.keys(SAGEMAKER_TRITON_ACCOUNTS).sort());
    expect(Object.keys(mapping)).toHaveLength(24);
    expect(mapping['us-east-1']).toEqual({ account: '763104351884' });
    expect(mapping['ap-east-1']).toEqual({ account: '871362719292' });
    expect(mapping['ca-west-1']).toEqual({ account: '204538143572' });
    expect(Object.keys(mapping).filter((r) => r.startsWith('cn-'))).toEqual([]);
  });

  test('GIVEN imageTag THEN the image uses it', () => {
    custom.template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: { 'Fn::Join': ['', Match.arrayWith(['/sagemaker-tritonserver:24.05-py3'])] } },
    });
  });

  test('GIVEN a stack in a region THEN the account and region resolve at synth, and no mapping is rendered', () => {
    regional.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        Image: { 'Fn::Join': ['', ['763104351884.dkr.ecr.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/sagemaker-tritonserver:24.09-py3']] },
      },
    });
    expect(regional.toJSON().Mappings).toBeUndefined();
  });

  test("Triton's default model is the package's, and the model is created after its role can read the artifact", () => {
    const [entry] = Object.values(defaults.template.findResources('AWS::SageMaker::Model')) as Array<{
      Properties: SageMakerModelResource;
      DependsOn: unknown;
    }>;
    expect(entry.Properties.PrimaryContainer.Environment).toEqual({ SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'tiny-gpu' });
    const role = only(defaults.template, 'AWS::IAM::Role').id;
    expect(entry.Properties.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    expect(entry.DependsOn).toEqual(expect.arrayContaining([role, expect.stringMatching(/^ModelExecutionRoleDefaultPolicy/)]));
  });
});

describe('the endpoint config', () => {
  test('defaults: one ml.g5.xlarge in variant AllTraffic, no KMS key, no data capture', () => {
    const model = only(defaults.template, 'AWS::SageMaker::Model').id;
    defaults.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: { 'Fn::GetAtt': [model, 'ModelName'] },
          InstanceType: 'ml.g5.xlarge',
          InitialInstanceCount: 1,
          InitialVariantWeight: 1,
        },
      ],
      KmsKeyId: Match.absent(),
      DataCaptureConfig: Match.absent(),
    });
  });

  test('GIVEN instanceType, initialInstanceCount, encryptionKey and dataCapture THEN the config has each', () => {
    const key = custom.stack.getLogicalId(custom.key.node.defaultChild as kms.CfnKey);
    const captureKey = custom.stack.getLogicalId(custom.captureKey.node.defaultChild as kms.CfnKey);
    const bucket = custom.stack.getLogicalId(custom.bucket.node.defaultChild as s3.CfnBucket);
    custom.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 2 })],
      KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      DataCaptureConfig: {
        EnableCapture: true,
        DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: bucket }, '/captured/tiny']] },
        InitialSamplingPercentage: 20,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
        KmsKeyId: { 'Fn::GetAtt': [captureKey, 'Arn'] },
      },
    });
  });
});

describe('the guarded rollout', () => {
  test('default: blue/green, canary of 10% of capacity, 5 minutes, old fleet kept 5 minutes, rollback on both alarms', () => {
    const latency = Object.keys(
      defaults.template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'ModelLatency' } }),
    )[0];
    const errors = Object.keys(
      defaults.template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Invocation5XXErrors' } }),
    )[0];
    const config = only(defaults.template, 'AWS::SageMaker::EndpointConfig').id;
    defaults.template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: defaults.model.endpointName,
      EndpointConfigName: { 'Fn::GetAtt': [config, 'EndpointConfigName'] },
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 300 },
          TerminationWaitInSeconds: 300,
        },
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: { Ref: latency } }, { AlarmName: { Ref: errors } }] },
      },
    });
  });

  test("the alarms watch the endpoint's own variant: p99 ModelLatency over 1 s (in µs) two of three minutes, any 5xx in a minute", () => {
    const dims = [
      { Name: 'EndpointName', Value: defaults.model.endpointName },
      { Name: 'VariantName', Value: 'AllTraffic' },
    ];
    defaults.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Dimensions: dims,
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: 1_000_000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    defaults.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Dimensions: dims,
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('GIVEN a canary of one instance, 10 minutes, a 15-minute termination wait and thresholds THEN each is used', () => {
    custom.template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: Match.objectLike({
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 }, WaitIntervalInSeconds: 600 },
          TerminationWaitInSeconds: 900,
        },
      }),
    });
    custom.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ModelLatency', Threshold: 250_000 });
    custom.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Invocation5XXErrors', Threshold: 5 });
  });

  test('GIVEN linear routing THEN steps of 10% every 5 minutes', () => {
    linear.template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: Match.objectLike({
        BlueGreenUpdatePolicy: Match.objectLike({
          TrafficRoutingConfiguration: {
            Type: 'LINEAR',
            LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 10 },
            WaitIntervalInSeconds: 300,
          },
        }),
      }),
    });
  });

  test('all at once, and bad sizes and intervals are refused', () => {
    expect(SageMakerTrafficRouting.allAtOnce().config).toEqual({ type: 'ALL_AT_ONCE', waitIntervalInSeconds: 300 });
    expect(() => SageMakerCapacity.percent(0)).toThrow(/SageMakerCapacity.percent must be an integer from 1 to 100; got 0/);
    expect(() => SageMakerCapacity.percent(101)).toThrow(/got 101/);
    expect(() => SageMakerCapacity.instances(1.5)).toThrow(/SageMakerCapacity.instances/);
    expect(() => SageMakerTrafficRouting.canary({ size: SageMakerCapacity.percent(5), waitInterval: Duration.hours(2) })).toThrow(
      /waitInterval must be from 1 to 3600 seconds; got 7200/,
    );
  });
});

describe('auto scaling', () => {
  test("defaults: the variant's instance count from 1 to 2, tracking 1000 invocations per instance, through the service-linked role", () => {
    const endpoint = only(defaults.template, 'AWS::SageMaker::Endpoint').id;
    const target = defaults.template.findResources('AWS::ApplicationAutoScaling::ScalableTarget');
    const [id, entry] = Object.entries(target)[0];
    expect(entry.Properties).toEqual({
      ServiceNamespace: 'sagemaker',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      ResourceId: `endpoint/${defaults.model.endpointName}/variant/AllTraffic`,
      MinCapacity: 1,
      MaxCapacity: 2,
      RoleARN: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':iam::',
            { Ref: 'AWS::AccountId' },
            ':role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
          ],
        ],
      },
    });
    expect(entry.DependsOn).toEqual([endpoint]);
    defaults.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      ScalingTargetId: { Ref: id },
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        TargetValue: 1000,
      },
    });
    // No role of its own: the execution role is the only role.
    defaults.template.resourceCountIs('AWS::IAM::Role', 1);
  });

  test('GIVEN min, max and a target THEN they are used', () => {
    custom.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    custom.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 300 }),
    });
  });
});

describe('least privilege', () => {
  test("the execution role reads its own artifact object and nothing else in S3, pulls only sagemaker-tritonserver, and writes only its endpoint's logs", () => {
    const role = only(defaults.template, 'AWS::IAM::Role') as {
      id: string;
      props: { AssumeRolePolicyDocument: PolicyDocument; ManagedPolicyArns?: unknown };
    };
    expect(role.props.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' } },
    ]);
    expect(role.props.ManagedPolicyArns).toBeUndefined();
    const key = defaults.model.artifact!.s3ObjectKey;
    expect(statements(defaults.template, role.id)).toEqual([
      {
        Sid: 'ReadOwnArtifact',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':s3:::',
              { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' },
              `/${key}`,
            ],
          ],
        },
      },
      {
        Sid: 'PullTritonImage',
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':ecr:',
              { Ref: 'AWS::Region' },
              ':',
              { 'Fn::FindInMap': ['ModelshipSageMakerTritonAccounts', { Ref: 'AWS::Region' }, 'account'] },
              ':repository/sagemaker-tritonserver',
            ],
          ],
        },
      },
      { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'EndpointLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':logs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:log-group:/aws/sagemaker/Endpoints/${defaults.model.endpointName}:*`,
            ],
          ],
        },
      },
    ]);
    expect(JSON.stringify(defaults.template.toJSON())).not.toMatch(/AmazonSageMakerFullAccess/);
  });

  test('GIVEN a KMS key and data capture THEN the role may use that key and put objects under the capture prefix only', () => {
    const role = Object.keys(custom.template.findResources('AWS::IAM::Role'))[0];
    const bucket = custom.stack.getLogicalId(custom.bucket.node.defaultChild as s3.CfnBucket);
    const all = statements(custom.template, role);
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['kms:CreateGrant', 'kms:DescribeKey'],
          Resource: { 'Fn::GetAtt': [custom.stack.getLogicalId(custom.key.node.defaultChild as kms.CfnKey), 'Arn'] },
        }),
        expect.objectContaining({
          Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [custom.stack.getLogicalId(custom.captureKey.node.defaultChild as kms.CfnKey), 'Arn'] },
        }),
        expect.objectContaining({ Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/captured/tiny/*']] } }),
      ]),
    );
    expect(all).toEqual(
      expect.arrayContaining([
        {
          Sid: 'WriteDataCapture',
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/captured/tiny/*']] },
        },
      ]),
    );
    const s3Statements = all.filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3Statements.map((st) => JSON.stringify(st.Resource))).toEqual([
      expect.stringContaining(custom.model.artifact!.s3ObjectKey),
      expect.stringContaining('/captured/tiny/*'),
    ]);
  });

  test('GIVEN a role THEN no role is created and the grants go to it', () => {
    byo.template.resourceCountIs('AWS::IAM::Role', 1);
    const mine = byo.role.stack.getLogicalId(byo.role.node.defaultChild as iam.CfnRole);
    byo.template.hasResourceProperties('AWS::SageMaker::Model', { ExecutionRoleArn: { 'Fn::GetAtt': [mine, 'Arn'] } });
    expect(statements(byo.template, mine).map((st) => st.Sid)).toEqual(['ReadOwnArtifact', 'PullTritonImage', 'EcrLogin', 'EndpointLogs']);
  });

  test('grantInvoke allows InvokeEndpoint on this endpoint only', () => {
    const stack = new Stack(new App({ context: projectContext() }), 'Grant');
    const grantee = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    // The model in `defaults` is reused through its ARN, which is a plain function of the stack and name.
    const grant = defaults.model.grantInvoke(grantee);
    expect(grant.success).toBe(true);
    const [policy] = Object.values(findResources(Template.fromStack(stack), 'AWS::IAM::Policy'));
    expect((policy.Properties.PolicyDocument as PolicyDocument).Statement).toEqual([
      {
        Action: 'sagemaker:InvokeEndpoint',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':sagemaker:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:endpoint/${defaults.model.endpointName}`,
            ],
          ],
        },
      },
    ]);
  });
});

describe('names and metrics', () => {
  test('the endpoint name is lower case, at most 63 characters, and stable for a construct path', () => {
    expect(defaults.model.endpointName).toMatch(/^[a-z0-9](-*[a-z0-9]){0,62}$/);
    expect(defaults.model.endpointName).toBe(defaults.model.endpointName.toLowerCase());
  });

  test("metric methods name the endpoint's variant in AWS/SageMaker", () => {
    const m = defaults.model;
    for (const [metric, name, stat] of [
      [m.metricModelLatency(), 'ModelLatency', 'Average'],
      [m.metricOverheadLatency(), 'OverheadLatency', 'Average'],
      [m.metricInvocations(), 'Invocations', 'Sum'],
      [m.metricInvocation4XXErrors(), 'Invocation4XXErrors', 'Sum'],
      [m.metricInvocation5XXErrors(), 'Invocation5XXErrors', 'Sum'],
      [m.metricInvocationsPerInstance(), 'InvocationsPerInstance', 'Sum'],
    ] as const) {
      expect({ namespace: metric.namespace, name: metric.metricName, stat: metric.statistic, dims: metric.dimensions }).toEqual({
        namespace: 'AWS/SageMaker',
        name,
        stat,
        dims: { EndpointName: m.endpointName, VariantName: 'AllTraffic' },
      });
    }
    expect(m.metricModelLatency({ statistic: 'p99' }).statistic).toBe('p99');
  });
});

describe('refused props', () => {
  const make = (props: Partial<ConstructorParameters<typeof SageMakerModel>[2]>) => () =>
    new SageMakerModel(new Stack(new App({ context: projectContext() }), 'Bad'), 'Model', { modelPackage: pkg, ...props });

  test('a cpu package', async () => {
    const cpu = ModelPackage.fromDirectory((await makeTinyMlpPackage()).dir);
    expect(make({ modelPackage: cpu })).toThrow(/SageMakerModel serves gpu packages; tiny-mlp 1.0.0 .* targets cpu/);
  });

  test.each([
    [{ initialInstanceCount: 0 }, /initialInstanceCount must be an integer from 1 to 10000; got 0/],
    [{ minCapacity: 3, maxCapacity: 2 }, /maxCapacity \(2\) cannot be below minCapacity \(3\)/],
    [{ targetInvocationsPerInstance: -1 }, /targetInvocationsPerInstance must be a positive number; got -1/],
    [{ errorsAlarmThreshold: 0 }, /errorsAlarmThreshold must be a positive number; got 0/],
    [{ latencyAlarmThreshold: Duration.hours(2) }, /latencyAlarmThreshold must be from 1 ms to 1 hour; got 7200000 ms/],
    [{ imageTag: 'bad tag' }, /imageTag must be an ECR image tag; got "bad tag"/],
    [{ instanceType: 'g5.xlarge' }, /instanceType must be a SageMaker instance type such as ml.g5.xlarge; got "g5.xlarge"/],
  ])('%j', (props, message) => {
    expect(make(props as never)).toThrow(message);
  });

  test('data capture with a bad sampling percentage or prefix', () => {
    const stack = new Stack(new App({ context: projectContext() }), 'Capture');
    const bucket = new s3.Bucket(stack, 'B');
    expect(() => new SageMakerModel(stack, 'A', { modelPackage: pkg, dataCapture: { bucket, samplingPercentage: 0 } })).toThrow(
      /dataCapture.samplingPercentage must be an integer from 1 to 100; got 0/,
    );
    expect(() => new SageMakerModel(stack, 'B2', { modelPackage: pkg, dataCapture: { bucket, prefix: 'x/' } })).toThrow(
      /dataCapture.prefix must not start or end with "\/"; got "x\/"/,
    );
  });

  test('a region without a Triton image', () => {
    const stack = new Stack(new App({ context: projectContext() }), 'China', { env: { region: 'cn-north-1' } });
    expect(() => new SageMakerModel(stack, 'Model', { modelPackage: pkg })).toThrow(
      /SageMaker has no Triton image in cn-north-1; regions with one: af-south-1/,
    );
  });
});
