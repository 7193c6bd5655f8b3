/**
 * EcsGpuModel: capacity, the Triton task and its repository in S3, the load balancer and VPC link,
 * the CodeDeploy blue/green canary, scaling and the task role, as fine-grained template assertions.
 * Every stack is built before the first synth, and each is synthesized once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EcsGpuModel } from '../../lib/constructs/ecs-gpu-model';
import { ModelPackage } from '../../lib/constructs/model-package';
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
      deploymentConfig: codedeploy.EcsDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTES,
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

  test('the staged repository is what lib/triton writes: <name>/config.pbtxt and <name>/1/model.onnx', () => {
    const staged = defaults.model.node
      .findAll()
      .map((c) => (c as { absoluteStagedPath?: string }).absoluteStagedPath)
      .find((p) => p !== undefined)!;
    expect(readdirSync(staged, { recursive: true }).map(String).sort()).toEqual([
      'tiny-gpu',
      'tiny-gpu/1',
      'tiny-gpu/1/model.onnx',
      'tiny-gpu/config.pbtxt',
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

describe('rollout and scaling', () => {
  test('default: the CODE_DEPLOY controller and a deployment group shifting ECS canary 10% for 5 minutes, rolled back by unhealthy-target alarms', () => {
    const m = defaults.model;
    defaults.template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentController: { Type: 'CODE_DEPLOY' },
      DeploymentConfiguration: { MinimumHealthyPercent: 100, MaximumPercent: 200 },
      DesiredCount: 1,
      HealthCheckGracePeriodSeconds: 300,
      LoadBalancers: [{ ContainerName: 'triton', ContainerPort: 8000, TargetGroupArn: { Ref: idOf(defaults.stack, m.blueTargetGroup) } }],
    });
    const alarms = m.unhealthyAlarms.map((a) => idOf(defaults.stack, a));
    defaults.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' },
      AlarmConfiguration: { Enabled: true, Alarms: alarms.map((id) => ({ Name: { Ref: id } })) },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      BlueGreenDeploymentConfiguration: Match.objectLike({
        TerminateBlueInstancesOnDeploymentSuccess: Match.objectLike({ Action: 'TERMINATE' }),
      }),
      LoadBalancerInfo: {
        TargetGroupPairInfoList: [
          {
            ProdTrafficRoute: { ListenerArns: [{ Ref: idOf(defaults.stack, m.listener) }] },
            TestTrafficRoute: { ListenerArns: [{ Ref: idOf(defaults.stack, m.testListener) }] },
            TargetGroups: [
              { Name: { 'Fn::GetAtt': [idOf(defaults.stack, m.blueTargetGroup), 'TargetGroupName'] } },
              { Name: { 'Fn::GetAtt': [idOf(defaults.stack, m.greenTargetGroup), 'TargetGroupName'] } },
            ],
          },
        ],
      },
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

  test('GIVEN a deployment config THEN it is used', () => {
    custom.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
    });
  });

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
  ])('%j', (props, message) => {
    expect(make(props)).toThrow(message);
  });
});
