/**
 * EcsGpuModel: capacity, the Triton task and its repository in S3, the load balancer and VPC link,
 * ECS's own canary deployments with the golden-sample lifecycle hook, scaling and the task role, as
 * fine-grained template assertions. Every stack is built before the first synth, and each is
 * synthesized once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EcsGpuModel } from '../../lib/constructs/ecs-gpu-model';
import { ModelPackage } from '../../lib/constructs/model-package';
import { WARMUP_DIR } from '../../lib/triton/warmup';
import { makeTinyMlpPackage } from '../helpers/fixtures';
import { makeGpuPackage } from './gpu-fixtures';
import { findResources, projectContext, roleStatements, testApp, type TestApp } from './synth-helpers';

let t: TestApp;
let pkg: ModelPackage;
let defaults: { stack: Stack; model: EcsGpuModel; template: Template };
let custom: { stack: Stack; model: EcsGpuModel; vpc: ec2.Vpc; template: Template };

function only(template: Template, type: string): { id: string; props: Readonly<Record<string, unknown>> } {
  const found = findResources(template, type);
  expect(Object.keys(found)).toHaveLength(1);
  const [id, r] = Object.entries(found)[0];
  return { id, props: r.Properties };
}

/** The `/repositories/<hash>` part of a model's repository URL, as the template writes it. */
function repositoryPrefixPart(model: EcsGpuModel): string {
  const url = Stack.of(model).resolve(model.modelRepositoryUrl) as { 'Fn::Join': [string, unknown[]] };
  return url['Fn::Join'][1][2] as string;
}

function idOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

beforeAll(async () => {
  t = testApp();
  pkg = ModelPackage.fromDirectory(await makeGpuPackage({ gpuPlatform: 'ecs' }));
  {
    const stack = t.stack('Defaults');
    defaults = { stack, model: new EcsGpuModel(stack, 'Model', { modelPackage: pkg }), template: undefined as never };
  }
  {
    const stack = t.stack('Custom');
    const vpc = new ec2.Vpc(stack, 'Mine', { maxAzs: 3 });
    const model = new EcsGpuModel(stack, 'Model', {
      modelPackage: pkg,
      vpc,
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.G5, ec2.InstanceSize.XLARGE12),
      gpuCount: 4,
      memoryReservationMiB: 65536,
      image: ecs.ContainerImage.fromRegistry('ghcr.io/example/tritonserver:24.08-py3'),
      tritonConfig: { maxBatchSize: 8, instanceCount: 2 },
      minCapacity: 2,
      maxCapacity: 5,
      targetCpuUtilization: 50,
      rollout: { strategy: 'linear', percent: 20, interval: Duration.minutes(2), bakeTime: Duration.minutes(15) },
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    custom = { stack, model, vpc, template: undefined as never };
  }
  defaults.template = Template.fromStack(defaults.stack);
  custom.template = Template.fromStack(custom.stack);
});

afterAll(() => t.cleanup());

describe('network', () => {
  test('default: a new VPC of two AZs with one NAT gateway and flow logs', () => {
    defaults.template.resourceCountIs('AWS::EC2::VPC', 1);
    defaults.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    defaults.template.resourceCountIs('AWS::EC2::FlowLog', 1);
    expect(Object.keys(defaults.template.findResources('AWS::EC2::Subnet', { Properties: { MapPublicIpOnLaunch: false } }))).toHaveLength(
      2,
    );
  });

  test('GIVEN a VPC THEN it is used, and none is created', () => {
    custom.template.resourceCountIs('AWS::EC2::VPC', 1);
    custom.template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ Subnets: custom.vpc.privateSubnets.map((s) => ({ Ref: idOf(custom.stack, s as never) })) }),
      },
    });
  });

  test('an internal NLB: production listener 80 to the blue group, test listener 8080 to the green group; IP targets on 8000, health on /v2/health/ready', () => {
    const lb = only(defaults.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.props).toMatchObject({ Type: 'network', Scheme: 'internal' });
    const blue = idOf(defaults.stack, defaults.model.blueTargetGroup);
    const green = idOf(defaults.stack, defaults.model.greenTargetGroup);
    defaults.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: { Ref: lb.id },
      Port: 80,
      Protocol: 'TCP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: blue } }],
    });
    defaults.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: { Ref: lb.id },
      Port: 8080,
      Protocol: 'TCP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: green } }],
    });
    for (const id of [blue, green]) {
      expect(findResources(defaults.template, 'AWS::ElasticLoadBalancingV2::TargetGroup')[id].Properties).toMatchObject({
        Port: 8000,
        Protocol: 'TCP',
        TargetType: 'ip',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPath: '/v2/health/ready',
        HealthCheckPort: '8000',
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
        TargetGroupAttributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
      });
    }
  });

  test('a VPC link to the load balancer for API Gateway', () => {
    const lb = only(defaults.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').id;
    defaults.template.hasResourceProperties('AWS::ApiGateway::VpcLink', { TargetArns: [{ Ref: lb }] });
  });

  test("tasks accept Triton's port from the VPC only", () => {
    const sg = idOf(defaults.stack, defaults.model.service.connections.securityGroups[0]);
    defaults.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        {
          IpProtocol: 'tcp',
          FromPort: 8000,
          ToPort: 8000,
          CidrIp: { 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] },
          Description: 'Load balancer to Triton HTTP',
        },
      ],
    });
    expect(sg).toBeDefined();
  });
});

describe('capacity', () => {
  test('default: g5.xlarge instances of the ECS GPU-optimized AMI, 1 to 2, IMDSv2, a 100 GiB encrypted gp3 root volume', () => {
    const template = defaults.template;
    const lt = only(template, 'AWS::EC2::LaunchTemplate').props.LaunchTemplateData;
    expect(lt).toMatchObject({
      InstanceType: 'g5.xlarge',
      ImageId: { Ref: expect.stringMatching(/^SsmParameterValueawsserviceecsoptimizedamiamazonlinux2gpurecommendedimageid/) as unknown },
      MetadataOptions: { HttpTokens: 'required' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 100, VolumeType: 'gp3' } }],
    });
    const parameters = (template.toJSON() as { Parameters: Record<string, { Default?: string }> }).Parameters;
    expect(Object.values(parameters).map((p) => p.Default)).toContain(
      '/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id',
    );
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '1',
      MaxSize: '2',
      NewInstancesProtectedFromScaleIn: true,
    });
  });

  test('an ASG capacity provider on the cluster, with container insights; the service places its tasks with it', () => {
    const cp = only(defaults.template, 'AWS::ECS::CapacityProvider');
    const asg = only(defaults.template, 'AWS::AutoScaling::AutoScalingGroup').id;
    expect(cp.props.AutoScalingGroupProvider).toMatchObject({
      AutoScalingGroupArn: { Ref: asg },
      ManagedScaling: { Status: 'ENABLED' },
      ManagedTerminationProtection: 'ENABLED',
    });
    defaults.template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', { CapacityProviders: [{ Ref: cp.id }] });
    defaults.template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    defaults.template.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [{ CapacityProvider: { Ref: cp.id }, Weight: 1 }],
    });
  });

  test('GIVEN an instance type and capacities THEN they are used', () => {
    custom.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g5.12xlarge' }),
    });
    custom.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '2', MaxSize: '5' });
  });
});

describe('the Triton task', () => {
  test('default: NGC Triton reading its repository from s3://, one GPU, 12 GiB, port 8000, health on /v2/health/ready, logs for a month', () => {
    const model = defaults.model;
    const bucket = idOf(defaults.stack, model.repositoryBucket);
    const logGroup = idOf(defaults.stack, model.logGroup);
    const prefix = /repositories\/[0-9a-f]{64}$/;
    const task = only(defaults.template, 'AWS::ECS::TaskDefinition').props as { ContainerDefinitions: unknown[] };
    expect(task).toMatchObject({
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['EC2'],
      TaskRoleArn: { 'Fn::GetAtt': [idOf(defaults.stack, model.taskRole), 'Arn'] },
    });
    expect(task.ContainerDefinitions).toHaveLength(1);
    const c = task.ContainerDefinitions[0];
    expect(c).toMatchObject({
      Name: 'triton',
      Image: 'nvcr.io/nvidia/tritonserver:24.09-py3',
      Command: [
        'tritonserver',
        { 'Fn::Join': ['', ['--model-repository=s3://', { Ref: bucket }, expect.stringMatching(prefix)]] },
        '--exit-on-error=true',
      ],
      ResourceRequirements: [{ Type: 'GPU', Value: '1' }],
      MemoryReservation: 12288,
      PortMappings: [{ ContainerPort: 8000, Protocol: 'tcp' }],
      HealthCheck: {
        Command: ['CMD-SHELL', 'curl -sf http://localhost:8000/v2/health/ready || exit 1'],
        Interval: 15,
        Timeout: 5,
        Retries: 3,
        StartPeriod: 180,
      },
      Environment: [
        { Name: 'AWS_REGION', Value: { Ref: 'AWS::Region' } },
        { Name: 'AWS_DEFAULT_REGION', Value: { Ref: 'AWS::Region' } },
      ],
      LogConfiguration: {
        LogDriver: 'awslogs',
        Options: { 'awslogs-group': { Ref: logGroup }, 'awslogs-stream-prefix': 'tiny-gpu', 'awslogs-region': { Ref: 'AWS::Region' } },
      },
    });
    defaults.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('GIVEN an image, GPUs, memory and log retention THEN they are used', () => {
    custom.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Image: 'ghcr.io/example/tritonserver:24.08-py3',
          ResourceRequirements: [{ Type: 'GPU', Value: '4' }],
          MemoryReservation: 65536,
        }),
      ],
    });
    custom.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('the repository is unpacked under a prefix named by its content: a Triton config change gives another prefix', () => {
    const url = (m: EcsGpuModel): string => repositoryPrefixPart(m);
    expect(url(defaults.model)).toMatch(/^\/repositories\/[0-9a-f]{64}$/);
    expect(url(custom.model)).toMatch(/^\/repositories\/[0-9a-f]{64}$/);
    expect(url(custom.model)).not.toBe(url(defaults.model));
    defaults.template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: idOf(defaults.stack, defaults.model.repositoryBucket) },
      DestinationBucketKeyPrefix: `${url(defaults.model).slice(1)}/`,
      Prune: false,
      RetainOnDelete: true,
      // Absent means true: the handler unpacks the zip, so Triton sees <name>/config.pbtxt and <name>/1/model.onnx.
      Extract: Match.absent(),
      SourceObjectKeys: [Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$')],
    });
  });

  test('the staged repository is what lib/triton writes: <name>/config.pbtxt, <name>/1/model.onnx and the warm-up input', () => {
    const staged = defaults.model.node
      .findAll()
      .map((c) => (c as { absoluteStagedPath?: string }).absoluteStagedPath)
      .find((p) => p !== undefined)!;
    expect(readdirSync(staged, { recursive: true }).map(String).sort()).toEqual([
      'tiny-gpu',
      'tiny-gpu/1',
      'tiny-gpu/1/model.onnx',
      'tiny-gpu/config.pbtxt',
      // The first golden sample's one input (x), which config.pbtxt's model_warmup names.
      `tiny-gpu/${WARMUP_DIR}`,
      `tiny-gpu/${WARMUP_DIR}/input-0`,
    ]);
    expect(readFileSync(join(staged, 'tiny-gpu', 'config.pbtxt'), 'utf8')).toMatch(/^platform: "onnxruntime_onnx"$/m);
  });

  test('the repository bucket: private, encrypted, TLS only, retained', () => {
    const bucket = (defaults.template.toJSON() as { Resources: Record<string, unknown> }).Resources[
      idOf(defaults.stack, defaults.model.repositoryBucket)
    ];
    expect(bucket).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      },
    });
    defaults.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test('tasks start only after the repository is in S3', () => {
    const service = defaults.template.findResources('AWS::ECS::Service');
    const deps = Object.values(service)[0].DependsOn as string[];
    const upload = Object.keys(defaults.template.findResources('Custom::CDKBucketDeployment'))[0];
    expect(deps).toContain(upload);
  });
});

describe('least privilege', () => {
  test('the task role reads only its own repository prefix', () => {
    const model = defaults.model;
    const role = idOf(defaults.stack, model.taskRole);
    const bucket = idOf(defaults.stack, model.repositoryBucket);
    const prefix = repositoryPrefixPart(model).slice(1);
    expect(roleStatements(defaults.template, role)).toEqual([
      {
        Sid: 'ReadOwnRepository',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${prefix}/*`]] },
      },
      {
        Sid: 'ListOwnRepository',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': [prefix, `${prefix}/*`] } },
      },
    ]);
    defaults.template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: Match.absent(),
      ManagedPolicyArns: Match.absent(),
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] },
    });
  });
});

describe('rollout', () => {
  test('default: the ECS controller shifts production 10% for 5 minutes, then the rest, and keeps the old tasks 5 minutes more', () => {
    const m = defaults.model;
    const service = only(defaults.template, 'AWS::ECS::Service').props;
    expect(service).toMatchObject({
      DeploymentController: { Type: 'ECS' },
      DesiredCount: 1,
      HealthCheckGracePeriodSeconds: 300,
    });
    expect(service.DeploymentConfiguration).toMatchObject({
      MinimumHealthyPercent: 100,
      MaximumPercent: 200,
      Strategy: 'CANARY',
      CanaryConfiguration: { CanaryPercent: 10, CanaryBakeTimeInMinutes: 5 },
      BakeTimeInMinutes: 5,
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
    });
    expect(service.DeploymentConfiguration).not.toHaveProperty('LinearConfiguration');
    // No CodeDeploy: CloudFormation itself starts the deployment when the task definition changes.
    defaults.template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    defaults.template.resourceCountIs('AWS::CodeDeploy::Application', 0);
    expect(m.node.tryFindChild('Deployment')).toBeUndefined();
  });

  test('the blue group serves at first; the green group is the alternate, with the production and the test listener, moved by a role of its own', () => {
    const m = defaults.model;
    const service = only(defaults.template, 'AWS::ECS::Service').props;
    const role = idOf(defaults.stack, m.loadBalancerRole);
    expect(service.LoadBalancers).toEqual([
      {
        ContainerName: 'triton',
        ContainerPort: 8000,
        TargetGroupArn: { Ref: idOf(defaults.stack, m.blueTargetGroup) },
        AdvancedConfiguration: {
          AlternateTargetGroupArn: { Ref: idOf(defaults.stack, m.greenTargetGroup) },
          ProductionListenerRule: { Ref: idOf(defaults.stack, m.listener) },
          TestListenerRule: { Ref: idOf(defaults.stack, m.testListener) },
          RoleArn: { 'Fn::GetAtt': [role, 'Arn'] },
        },
      },
    ]);
    expect(findResources(defaults.template, 'AWS::IAM::Role')[role].Properties).toMatchObject({
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'ecs.amazonaws.com' } }] },
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers']] },
      ],
    });
  });

  test('the unhealthy-target alarms of both groups, and the circuit breaker, roll a deployment back', () => {
    const m = defaults.model;
    const service = only(defaults.template, 'AWS::ECS::Service').props;
    expect((service.DeploymentConfiguration as Record<string, unknown>).Alarms).toEqual({
      AlarmNames: m.unhealthyAlarms.map((a) => ({ Ref: idOf(defaults.stack, a) })),
      Enable: true,
      Rollback: true,
    });
    for (const tg of [m.blueTargetGroup, m.greenTargetGroup]) {
      defaults.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/NetworkELB',
        MetricName: 'UnHealthyHostCount',
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 1,
        EvaluationPeriods: 2,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: Match.arrayWith([{ Name: 'TargetGroup', Value: { 'Fn::GetAtt': [idOf(defaults.stack, tg), 'TargetGroupFullName'] } }]),
      });
    }
  });

  test('GIVEN a linear rollout THEN its step, interval and bake time are used', () => {
    const service = only(custom.template, 'AWS::ECS::Service').props;
    expect(service.DeploymentConfiguration).toMatchObject({
      Strategy: 'LINEAR',
      LinearConfiguration: { StepPercent: 20, StepBakeTimeInMinutes: 2 },
      BakeTimeInMinutes: 15,
    });
    expect(service.DeploymentConfiguration).not.toHaveProperty('CanaryConfiguration');
  });
});

describe('the golden-sample lifecycle hook', () => {
  function hookFunction(): { id: string; props: Readonly<Record<string, unknown>> } {
    const id = idOf(defaults.stack, defaults.model.goldenSampleHook);
    return { id, props: findResources(defaults.template, 'AWS::Lambda::Function')[id].Properties };
  }

  test('runs at POST_TEST_TRAFFIC_SHIFT: the test listener is on the new tasks, production has not moved', () => {
    const service = only(defaults.template, 'AWS::ECS::Service').props;
    const hooks = (service.DeploymentConfiguration as { LifecycleHooks: unknown[] }).LifecycleHooks;
    expect(hooks).toEqual([
      {
        HookTargetArn: { 'Fn::GetAtt': [hookFunction().id, 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^ModelGoldenSampleHookInvokeRole/) as unknown, 'Arn'] },
        LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
      },
    ]);
  });

  test('ECS may invoke the hook and nothing else; the service waits for that grant', () => {
    const roleId = (
      (only(defaults.template, 'AWS::ECS::Service').props.DeploymentConfiguration as { LifecycleHooks: Array<{ RoleArn: unknown }> })
        .LifecycleHooks[0].RoleArn as { 'Fn::GetAtt': [string, string] }
    )['Fn::GetAtt'][0];
    expect(findResources(defaults.template, 'AWS::IAM::Role')[roleId].Properties).toMatchObject({
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'ecs.amazonaws.com' } }] },
    });
    expect(roleStatements(defaults.template, roleId)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [hookFunction().id, 'Arn'] } },
    ]);
    const deps = Object.values(defaults.template.findResources('AWS::ECS::Service'))[0].DependsOn as string[];
    expect(deps).toEqual(expect.arrayContaining([roleId, expect.stringMatching(/^ModelGoldenSampleHookInvokeRoleDefaultPolicy/)]));
  });

  test("the hook asks the test listener, with a request timeout of API Gateway's and time for every sample", () => {
    const { props } = hookFunction();
    const lb = idOf(defaults.stack, defaults.model.loadBalancer);
    const samples = pkg.manifest.samples.length;
    expect(props).toMatchObject({
      Handler: 'index.handler',
      Architectures: ['arm64'],
      Timeout: (samples + 1) * 29 + 30,
      Environment: {
        Variables: {
          TEST_LISTENER_URL: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [lb, 'DNSName'] }, ':8080']] },
          GOLDEN_DIR: '/var/task/golden',
          REQUEST_TIMEOUT_MS: '29000',
          POWERTOOLS_SERVICE_NAME: 'tiny-gpu-ecs-lifecycle-hook',
        },
      },
    });
  });

  test('in the private subnets, with a security group that reaches the test listener port and nothing else', () => {
    const { props } = hookFunction();
    const vpcConfig = props.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: Array<{ 'Fn::GetAtt': [string, string] }> };
    expect(vpcConfig.SubnetIds).toHaveLength(2);
    expect(vpcConfig.SecurityGroupIds).toHaveLength(1);
    const sg = findResources(defaults.template, 'AWS::EC2::SecurityGroup')[vpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0]].Properties;
    expect(sg.SecurityGroupEgress).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
        CidrIp: { 'Fn::GetAtt': [expect.any(String) as unknown, 'CidrBlock'] },
        Description: 'To the test listener',
      },
    ]);
    expect(sg.SecurityGroupIngress).toBeUndefined();
  });

  test("the hook's role writes its logs and attaches it to the VPC; it calls no other AWS API", () => {
    const role = (hookFunction().props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const actions = roleStatements(defaults.template, role).flatMap<string>((st) => [st.Action].flat());
    expect(actions.filter((a) => !a.startsWith('logs:') && !a.startsWith('ec2:'))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents', 'ec2:CreateNetworkInterface']));
  });

  test("the golden samples ship in the hook's own asset, never in the tasks under test", () => {
    const staged = defaults.model.goldenSampleHook.node
      .findAll()
      .map((c) => (c as { absoluteStagedPath?: string }).absoluteStagedPath)
      .find((p) => p !== undefined)!;
    const files = readdirSync(join(staged, 'golden'), { recursive: true }).map(String).sort();
    expect(files).toEqual(expect.arrayContaining(['modelship.json', ...pkg.goldenFiles.filter((f) => f !== 'modelship.json')]));
    expect(files).not.toContain('model.onnx');
  });
});

describe('scaling', () => {
  test('service auto scaling: tasks from min to max, tracking 70% CPU by default', () => {
    defaults.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 1,
      MaxCapacity: 2,
    });
    defaults.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 70,
      },
    });
    custom.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'ecs',
      MinCapacity: 2,
      MaxCapacity: 5,
    });
    custom.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 50 }),
    });
    custom.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
  });

  test('metric methods', () => {
    expect(defaults.model.metricCpuUtilization().metricName).toBe('CPUUtilization');
  });

  test.each([
    ['metricUnhealthyTargets', 'UnHealthyHostCount', 'unhealthy'],
    ['metricHealthyTargets', 'HealthyHostCount', 'healthy'],
  ] as const)('%s covers the blue and the green target group together: CodeDeploy swaps them', (method, metricName, id) => {
    // GIVEN an ECS model  WHEN its target metric is asked for with options
    const metric = defaults.model[method]({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM, label: 'targets' });
    // THEN it adds both groups' metrics, each with the options, a group without data counting as none
    expect(metric.expression).toBe(`FILL(${id}Blue, 0) + FILL(${id}Green, 0)`);
    expect(metric.label).toBe('targets');
    expect(metric.period.toSeconds()).toBe(60);
    const used = metric.usingMetrics as Record<string, cloudwatch.Metric>;
    expect(Object.keys(used).sort()).toEqual([`${id}Blue`, `${id}Green`]);
    for (const [key, tg] of [
      [`${id}Blue`, defaults.model.blueTargetGroup],
      [`${id}Green`, defaults.model.greenTargetGroup],
    ] as const) {
      expect({ key, name: used[key].metricName, statistic: used[key].statistic, period: used[key].period.toSeconds() }).toEqual({
        key,
        name: metricName,
        statistic: 'Maximum',
        period: 60,
      });
      expect(defaults.stack.resolve(used[key].dimensions?.TargetGroup)).toEqual({
        'Fn::GetAtt': [idOf(defaults.stack, tg), 'TargetGroupFullName'],
      });
    }
  });
});

describe('refused props', () => {
  const make = (props: object) => () =>
    new EcsGpuModel(new Stack(new App({ context: projectContext() }), 'Bad'), 'Model', { modelPackage: pkg, ...props });

  test('a cpu package', async () => {
    const cpu = ModelPackage.fromDirectory((await makeTinyMlpPackage()).dir);
    expect(make({ modelPackage: cpu })).toThrow(/EcsGpuModel serves gpu packages; tiny-mlp 1.0.0 .* targets cpu/);
  });

  test.each([
    [{ gpuCount: 0 }, /gpuCount must be an integer from 1 to 16; got 0/],
    [{ memoryReservationMiB: 64 }, /memoryReservationMiB must be an integer from 128/],
    [{ minCapacity: 4, maxCapacity: 3 }, /maxCapacity \(3\) cannot be below minCapacity \(4\)/],
    [{ targetCpuUtilization: 150 }, /targetCpuUtilization must be an integer from 1 to 100; got 150/],
    [{ rollout: { percent: 0.05 } }, /rollout.percent of a canary rollout must be a multiple of 0.1 from 0.1 to 100; got 0.05/],
    [{ rollout: { percent: 12.34 } }, /rollout.percent of a canary rollout must be a multiple of 0.1 .*got 12.34/],
    [{ rollout: { strategy: 'linear', percent: 2 } }, /rollout.percent of a linear rollout must be a multiple of 0.1 from 3 to 100; got 2/],
    [{ rollout: { interval: Duration.seconds(90) } }, /rollout.interval must be whole minutes from 0 to 1440; got 1 minute 30 seconds/],
    [{ rollout: { bakeTime: Duration.hours(25) } }, /rollout.bakeTime must be whole minutes from 0 to 1440; got 1 day 1 hour/],
    [{ rollout: { strategy: 'blue-green' } }, /rollout.strategy must be 'canary' or 'linear'; got "blue-green"/],
  ])('%j', (props, message) => {
    expect(make(props)).toThrow(message);
  });
});
