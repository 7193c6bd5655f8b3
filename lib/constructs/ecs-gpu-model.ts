/**
 * A GPU model on ECS: Triton Inference Server on g5 instances with the ECS GPU-optimized AMI, reading
 * the package's Triton model repository from S3, behind an internal Network Load Balancer that API
 * Gateway reaches through a VPC link, rolled out by ECS's own canary deployments once the new tasks
 * answer the package's golden samples (lib/constructs/private/ecs-rollout.ts says why not CodeDeploy).
 */
import { AssetHashType, Aws, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { TritonModelConfigOptions } from '../triton/types';
import type { IModelBackend, ModelBackendBinding } from './model-backend';
import type { ModelPackage } from './model-package';
import { ecsModelWidgets } from './private/dashboard';
import { type EcsRollout, GoldenSampleHook, type RolloutServiceProps, rolloutServiceProps } from './private/ecs-rollout';
import { ecsInferIntegration } from './private/gpu-integrations';
import {
  ecsAccessLogsBucket,
  mixedCapacity,
  hardenedInstanceTypes,
  hardenedRepositoryBucketProps,
  hardenLoadBalancer,
  hardenRepositoryBucket,
  TRITON_SCRATCH_PATH,
  TRITON_SCRATCH_VOLUME,
  TRITON_USER,
} from './private/ecs-hardening';
import { logRetention, notifyAlarms, type Profile, profileLogGroup, type ProfileProps, resolveProfile } from './private/profile';
import { acknowledge } from './private/nag';
import { MANIFEST_MOCK_METHOD, manifestMocks } from './private/protocol-templates';
import { tritonRepositoryBundling } from './private/triton-build';
import { DEFAULT_ECS_TRITON_IMAGE } from './private/triton-images';
import { checkCapacity, checkInteger } from './private/validate';

/** Where the instances, the tasks and the load balancer go. */
const PRIVATE_SUBNETS: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

/** Triton's HTTP port, where it answers Open Inference Protocol v2. */
export const TRITON_HTTP_PORT = 8000;
/** The load balancer's production listener port. */
export const ECS_PRODUCTION_PORT = 80;
/** The load balancer's test listener port: a deployment routes it to the new tasks before any production traffic. */
export const ECS_TEST_PORT = 8080;

/** Properties of an {@link EcsGpuModel}. */
export interface EcsGpuModelProps extends ProfileProps {
  /** The package to serve; its target must be gpu. */
  readonly modelPackage: ModelPackage;
  /**
   * The VPC of the instances, the tasks and the load balancer. Not with `hardened`: the profile's VPC is used.
   * @default - A new VPC is created: two availability zones, one NAT gateway, flow logs to CloudWatch Logs;
   * with `hardened`, the profile's isolated VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The GPU instance type.
   * @default ec2.InstanceType.of(ec2.InstanceClass.G5, ec2.InstanceSize.XLARGE)
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * Further instance types the Auto Scaling group may launch when `instanceType` is short, by a mixed
   * instances policy; each must offer the task's GPUs and memory.
   * @default - none; with `hardened`, the same size of the neighbouring family (g5.xlarge: g4dn.xlarge,
   * whose T4 has 16 GB of GPU memory to the A10G's 24), since Control Tower's CT.AUTOSCALING.PR.6 asks
   * for two types
   */
  readonly additionalInstanceTypes?: readonly ec2.InstanceType[];
  /**
   * GPUs each task reserves.
   * @default 1
   */
  readonly gpuCount?: number;
  /**
   * Memory each task reserves, in MiB.
   * @default 12288
   */
  readonly memoryReservationMiB?: number;
  /**
   * The Triton server image. Pulled by the ECS agent at deployment, never at synth. Required with
   * `hardened`, whose instances have no route to nvcr.io: a copy of the Triton image in ECR
   * (`ecs.ContainerImage.fromEcrRepository`), pulled through the profile's ECR endpoints.
   * @default - ecs.ContainerImage.fromRegistry('nvcr.io/nvidia/tritonserver:24.09-py3')
   */
  readonly image?: ecs.ContainerImage;
  /**
   * How Triton batches and places the model (config.pbtxt).
   * @default - lib/triton's defaults: dynamic batching up to 64, one instance per GPU
   */
  readonly tritonConfig?: TritonModelConfigOptions;
  /**
   * Fewest tasks (and instances) kept.
   * @default 1
   */
  readonly minCapacity?: number;
  /**
   * Most tasks (and instances) scaled out to.
   * @default - twice minCapacity
   */
  readonly maxCapacity?: number;
  /**
   * Average CPU utilization of the service's tasks that scaling holds, in percent.
   * @default 70
   */
  readonly targetCpuUtilization?: number;
  /**
   * How a new package's tasks take production traffic from the old ones, once they have answered the
   * golden samples on the test listener.
   * @default - canary: 10% for 5 minutes, then the rest; the old tasks kept 5 minutes more
   */
  readonly rollout?: EcsRollout;
  /**
   * How long Triton's logs, and the golden-sample hook's, are kept.
   * @default logs.RetentionDays.ONE_MONTH; with `hardened`, a year (and no less is accepted)
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Serves one gpu model package with Triton on ECS GPU instances. Add it to a {@link ModelApi} with
 * `addModel`: API Gateway reaches the internal load balancer through {@link vpcLink}.
 *
 * The repository goes to S3 under a prefix named by its content hash, so every change to the package
 * gives a new task definition, and `cdk deploy` starts an ECS deployment of it: the new tasks join the
 * other target group, the test listener moves to them, the golden-sample hook checks them, and only then
 * does production traffic shift, by canary or linear steps (README: "Deploy GPU models").
 */
export class EcsGpuModel extends Construct implements IModelBackend {
  /** The package being served. */
  readonly modelPackage: ModelPackage;
  /** The VPC. */
  readonly vpc: ec2.IVpc;
  /** The ECS cluster. */
  readonly cluster: ecs.Cluster;
  /** The GPU instance type. */
  readonly instanceType: ec2.InstanceType;
  /** The GPU instances. */
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The capacity provider the service places its tasks with. */
  readonly capacityProvider: ecs.AsgCapacityProvider;
  /** The bucket holding the Triton model repositories. */
  readonly repositoryBucket: s3.Bucket;
  /** `s3://bucket/prefix` of this package's Triton repository: what Triton's --model-repository reads. */
  readonly modelRepositoryUrl: string;
  /** The task definition. */
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** The tasks' role: reads this repository's objects and nothing else. */
  readonly taskRole: iam.Role;
  /** The Triton container. */
  readonly container: ecs.ContainerDefinition;
  /** The ECS service, with ECS's own deployment controller. */
  readonly service: ecs.Ec2Service;
  /** The internal Network Load Balancer. */
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The production listener (port 80). */
  readonly listener: elbv2.NetworkListener;
  /** The test listener (port 8080). */
  readonly testListener: elbv2.NetworkListener;
  /** The target group serving production traffic at first. */
  readonly blueTargetGroup: elbv2.NetworkTargetGroup;
  /** The other target group: a deployment's new tasks join whichever of the two holds no tasks. */
  readonly greenTargetGroup: elbv2.NetworkTargetGroup;
  /** The API Gateway VPC link to the load balancer. */
  readonly vpcLink: apigw.VpcLink;
  /** The POST_TEST_TRAFFIC_SHIFT lifecycle hook: the golden samples against the new tasks on the test listener. */
  readonly goldenSampleHook: lambda.IFunction;
  /** The role ECS uses to move the listeners between the target groups. */
  readonly loadBalancerRole: iam.Role;
  /** Alarms on unhealthy targets in either target group; they roll a deployment back. */
  readonly unhealthyAlarms: readonly cloudwatch.Alarm[];
  /** Triton's log group. */
  readonly logGroup: logs.LogGroup;
  /** With `hardened`: the bucket of the repository bucket's server access logs and the load balancer's access logs. */
  readonly accessLogsBucket?: s3.Bucket;
  private readonly profile: Profile;
  /** Where the instances, the tasks, the load balancer and the hook go. */
  private readonly subnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: EcsGpuModelProps) {
    super(scope, id);
    const pkg = props.modelPackage;
    if (pkg.manifest.target !== 'gpu') {
      throw new Error(`EcsGpuModel serves gpu packages; ${pkg.name} ${pkg.version} (${pkg.directory}) targets ${pkg.manifest.target}`);
    }
    const gpuCount = props.gpuCount ?? 1;
    checkInteger('gpuCount', gpuCount, 1, 16);
    const memory = props.memoryReservationMiB ?? 12288;
    checkInteger('memoryReservationMiB', memory, 128, 4_000_000);
    const min = props.minCapacity ?? 1;
    const max = props.maxCapacity ?? min * 2;
    checkCapacity(min, max, 1000);
    checkInteger('targetCpuUtilization', props.targetCpuUtilization, 1, 100);
    const rollout = rolloutServiceProps(props.rollout);
    this.modelPackage = pkg;
    this.instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.G5, ec2.InstanceSize.XLARGE);
    this.profile = resolveProfile(this, props);
    const hardening = this.profile.hardening;
    if (hardening !== undefined) {
      if (props.vpc !== undefined) {
        throw new Error(
          `EcsGpuModel ${id} vpc: the hardened profile places the model in its own VPC; pass yours as Hardening.of(stack, { vpc })`,
        );
      }
      if (props.image === undefined) {
        throw new Error(
          `EcsGpuModel ${id} image: the hardened profile's instances have no route to ${DEFAULT_ECS_TRITON_IMAGE}; copy it to ECR and pass ecs.ContainerImage.fromEcrRepository(...)`,
        );
      }
    }
    const retention = logRetention(this.profile, props.logRetention, `EcsGpuModel ${id} logRetention`);
    const instanceTypes =
      hardening !== undefined
        ? hardenedInstanceTypes(`EcsGpuModel ${id}`, this.instanceType, props.additionalInstanceTypes)
        : props.additionalInstanceTypes === undefined
          ? undefined
          : [this.instanceType, ...props.additionalInstanceTypes];

    if (hardening !== undefined) {
      this.vpc = hardening.vpc;
      this.accessLogsBucket = ecsAccessLogsBucket(this);
    } else if (props.vpc !== undefined) {
      this.vpc = props.vpc;
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
      vpc.addFlowLog('FlowLog');
      this.vpc = vpc;
    }
    this.subnets = hardening?.functionPlacement().vpcSubnets ?? PRIVATE_SUBNETS;

    const repository = this.tritonRepository(props.tritonConfig, retention);
    this.repositoryBucket = repository.bucket;
    this.modelRepositoryUrl = `s3://${this.repositoryBucket.bucketName}/${repository.prefix}`;

    ({
      cluster: this.cluster,
      autoScalingGroup: this.autoScalingGroup,
      capacityProvider: this.capacityProvider,
    } = this.gpuCapacity(min, max, instanceTypes));
    ({
      taskRole: this.taskRole,
      logGroup: this.logGroup,
      taskDefinition: this.taskDefinition,
      container: this.container,
    } = this.tritonTask(repository.prefix, { gpuCount, memory, image: props.image, logRetention: retention }));
    ({
      loadBalancer: this.loadBalancer,
      blueTargetGroup: this.blueTargetGroup,
      greenTargetGroup: this.greenTargetGroup,
      listener: this.listener,
      testListener: this.testListener,
    } = this.loadBalancing());

    this.unhealthyAlarms = this.unhealthyTargetAlarms();
    notifyAlarms(this.profile, this.unhealthyAlarms);
    const hook = new GoldenSampleHook(this, 'GoldenSampleHook', {
      modelPackage: pkg,
      vpc: this.vpc,
      vpcSubnets: this.subnets,
      profile: this.profile,
      testListenerUrl: `http://${this.loadBalancer.loadBalancerDnsName}:${ECS_TEST_PORT}`,
      testListenerPort: ECS_TEST_PORT,
      logRetention: retention,
    });
    this.goldenSampleHook = hook.function;
    this.loadBalancerRole = new iam.Role(this, 'LoadBalancerRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: `ECS: moves ${pkg.name}'s listeners between its two target groups during a deployment`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonECSInfrastructureRolePolicyForLoadBalancers')],
    });
    acknowledge(this.loadBalancerRole, [
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
        reason:
          'AmazonECSInfrastructureRolePolicyForLoadBalancers is the AWS-maintained policy ECS documents for the role that shifts traffic in blue/green, canary and linear deployments',
      },
    ]);

    this.service = this.tritonService(min, max, props.targetCpuUtilization ?? 70, rollout, hook.target);
    // Tasks start only once their repository is in S3, and a deployment starts only once ECS may invoke the hook.
    this.service.node.addDependency(repository.upload, hook.invokeRole);

    this.vpcLink = new apigw.VpcLink(this, 'VpcLink', {
      targets: [this.loadBalancer],
      description: `API Gateway to ${pkg.name}'s Triton load balancer`,
    });
  }

  /**
   * The Triton model repository: written by lib/triton at synth, and unpacked into a bucket of its own
   * under a prefix named by its content hash.
   */
  private tritonRepository(
    tritonConfig: TritonModelConfigOptions | undefined,
    retention: logs.RetentionDays,
  ): {
    bucket: s3.Bucket;
    prefix: string;
    upload: s3deploy.BucketDeployment;
  } {
    const pkg = this.modelPackage;
    const asset = new s3assets.Asset(this, 'Repository', {
      path: pkg.directory,
      assetHashType: AssetHashType.OUTPUT,
      bundling: tritonRepositoryBundling(pkg.directory, tritonConfig ?? {}),
    });
    const hardening = this.profile.hardening;
    const bucket = new s3.Bucket(this, 'RepositoryBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(hardening !== undefined && hardenedRepositoryBucketProps(hardening, this.accessLogsBucket!)),
    });
    if (hardening !== undefined) hardenRepositoryBucket(bucket);
    acknowledge(bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          "The bucket holds model repositories written only by this stack's deployment and read only by the tasks' role; CloudTrail covers its API calls",
      },
    ]);
    const prefix = `repositories/${asset.assetHash}`;
    const upload = new s3deploy.BucketDeployment(this, 'RepositoryUpload', {
      sources: [s3deploy.Source.bucket(asset.bucket, asset.s3ObjectKey)],
      destinationBucket: bucket,
      destinationKeyPrefix: `${prefix}/`,
      // Old prefixes stay: the tasks of a deployment being rolled back still read theirs.
      prune: false,
      retainOnDelete: true,
      memoryLimit: 1024,
      // The handler reaches S3 through the profile's gateway endpoint; its logs are the profile's kind.
      ...(hardening !== undefined && {
        vpc: this.vpc,
        vpcSubnets: this.subnets,
        logGroup: profileLogGroup(this, 'RepositoryUploadLogGroup', this.profile, retention),
      }),
      ephemeralStorageSize: Size.mebibytes(Math.min(10240, Math.max(1024, Math.ceil((pkg.manifest.model.bytes * 3) / 2 ** 20)))),
    });
    // The handler is a stack-wide singleton of aws-cdk-lib; its findings are acknowledged where it sits.
    acknowledge(upload.handlerRole.node.scope as Construct, [
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "aws-cdk-lib's BucketDeployment handler writes its own logs with the AWS-managed basic execution policy",
      },
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          "aws-cdk-lib's BucketDeployment handler copies the repository with these action groups; it runs only while the stack deploys",
      })),
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        reason: "aws-cdk-lib's BucketDeployment handler reads the stack's asset objects, whose keys are content hashes",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId(bucket)}.Arn>/*]`,
        reason:
          "aws-cdk-lib's BucketDeployment handler writes under a prefix it is told at deployment, in this model's own repository bucket",
      },
      { id: 'AwsSolutions-L1', reason: "aws-cdk-lib chooses and updates the BucketDeployment handler's runtime" },
    ]);
    if (hardening !== undefined) {
      acknowledge(upload.handlerRole.node.scope as Construct, [
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
          reason: "aws-cdk-lib's BucketDeployment handler attaches to the profile's VPC with the AWS-managed VPC access policy",
        },
        ...['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((action) => ({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason: "aws-cdk-lib's BucketDeployment handler writes objects that S3 encrypts with the profile's key, on this one key",
        })),
      ]);
    }
    return { bucket, prefix, upload };
  }

  /** The cluster and its GPU instances, scaled by a capacity provider. */
  private gpuCapacity(
    min: number,
    max: number,
    instanceTypes: readonly ec2.InstanceType[] | undefined,
  ): { cluster: ecs.Cluster; autoScalingGroup: autoscaling.AutoScalingGroup; capacityProvider: ecs.AsgCapacityProvider } {
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    // The Triton image alone is over 10 GB.
    const blockDevices = [
      {
        deviceName: '/dev/xvda',
        volume: autoscaling.BlockDeviceVolume.ebs(100, { encrypted: true, volumeType: autoscaling.EbsDeviceVolumeType.GP3 }),
      },
    ];
    const hardening = this.profile.hardening;
    const autoScalingGroup =
      hardening !== undefined || instanceTypes !== undefined
        ? mixedCapacity(this, {
            vpc: this.vpc,
            hardening,
            instanceTypes: instanceTypes!,
            subnets: this.subnets,
            minCapacity: min,
            maxCapacity: max,
            blockDevices,
          })
        : new autoscaling.AutoScalingGroup(this, 'Capacity', {
            vpc: this.vpc,
            vpcSubnets: PRIVATE_SUBNETS,
            instanceType: this.instanceType,
            machineImage: ecs.EcsOptimizedImage.amazonLinux2(ecs.AmiHardwareType.GPU),
            minCapacity: min,
            maxCapacity: max,
            requireImdsv2: true,
            blockDevices,
          });
    const agentAcknowledgements = [
      {
        id: 'AwsSolutions-AS3',
        reason: 'Scaling is driven by the ECS capacity provider, whose events ECS reports; no separate notification topic is needed',
      },
      {
        id: 'AwsSolutions-IAM5[Action::ecs:Submit*]',
        reason:
          'The ECS agent on each instance reports task and container state with the ecs:Submit* actions aws-cdk-lib grants the instance role',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ecs:DiscoverPollEndpoint and ecr:GetAuthorizationToken, which the ECS agent needs, have no resource-level permissions',
      },
    ];
    acknowledge(autoScalingGroup, agentAcknowledgements);
    if (instanceTypes !== undefined) {
      acknowledge(autoScalingGroup, [
        {
          id: 'AwsSolutions-EC26',
          reason:
            "The launch template's one block device is encrypted; cdk-nag does not follow a mixed instances policy to its launch template",
        },
      ]);
    }
    // A launch template's role is the model's own construct, outside the group.
    if (instanceTypes !== undefined) acknowledge(autoScalingGroup.role, agentAcknowledgements);
    const capacityProvider = new ecs.AsgCapacityProvider(this, 'CapacityProvider', { autoScalingGroup });
    cluster.addAsgCapacityProvider(capacityProvider);
    return { cluster, autoScalingGroup, capacityProvider };
  }

  /** The Triton task: its role (this repository's objects only), its logs and its container. */
  private tritonTask(
    prefix: string,
    props: { gpuCount: number; memory: number; image?: ecs.ContainerImage; logRetention: logs.RetentionDays },
  ): {
    taskRole: iam.Role;
    logGroup: logs.LogGroup;
    taskDefinition: ecs.Ec2TaskDefinition;
    container: ecs.ContainerDefinition;
  } {
    const pkg = this.modelPackage;
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Model ${pkg.name}: reads its own Triton repository, nothing else`,
    });
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnRepository',
        actions: ['s3:GetObject'],
        resources: [this.repositoryBucket.arnForObjects(`${prefix}/*`)],
      }),
    );
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListOwnRepository',
        actions: ['s3:ListBucket'],
        resources: [this.repositoryBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [prefix, `${prefix}/*`] } },
      }),
    );
    acknowledge(taskRole, [
      {
        id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId(this.repositoryBucket)}.Arn>/${prefix}/*]`,
        reason: "The objects of this package's own repository prefix, named by its content hash; Triton reads every file under it",
      },
    ]);

    const hardening = this.profile.hardening;
    // The objects are encrypted with the profile's key: S3 decrypts them for the role.
    hardening?.key.grantDecrypt(taskRole);
    const logGroup = profileLogGroup(this, 'LogGroup', this.profile, props.logRetention);
    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', {
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole,
      volumes: hardening === undefined ? undefined : [TRITON_SCRATCH_VOLUME],
    });
    const container = taskDefinition.addContainer('triton', {
      image: props.image ?? ecs.ContainerImage.fromRegistry(DEFAULT_ECS_TRITON_IMAGE),
      command: ['tritonserver', `--model-repository=${this.modelRepositoryUrl}`, '--exit-on-error=true'],
      environment: { AWS_REGION: Aws.REGION, AWS_DEFAULT_REGION: Aws.REGION },
      gpuCount: props.gpuCount,
      memoryReservationMiB: props.memory,
      // The profile's task settings (CT.ECS.PR.3, PR.6, PR.7): a memory use past the reservation ends the
      // task instead of starving the instance's agent.
      ...(hardening !== undefined && { user: TRITON_USER, readonlyRootFilesystem: true, memoryLimitMiB: props.memory }),
      portMappings: [{ containerPort: TRITON_HTTP_PORT, protocol: ecs.Protocol.TCP }],
      healthCheck: {
        command: ['CMD-SHELL', `curl -sf http://localhost:${TRITON_HTTP_PORT}/v2/health/ready || exit 1`],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(180),
      },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: pkg.name, logGroup }),
    });
    if (hardening !== undefined) {
      container.addMountPoints({ sourceVolume: TRITON_SCRATCH_VOLUME.name, containerPath: TRITON_SCRATCH_PATH, readOnly: false });
    }
    acknowledge(taskDefinition, [
      {
        id: 'AwsSolutions-ECS2',
        reason: "The only environment variables are AWS_REGION and AWS_DEFAULT_REGION, which Triton's S3 client needs; nothing secret",
      },
    ]);
    if (hardening !== undefined) {
      acknowledge(taskDefinition, [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'ecr:GetAuthorizationToken, with which the ECS agent pulls the ECR image, has no resource-level permissions',
        },
      ]);
    }
    return { taskRole, logGroup, taskDefinition, container };
  }

  /** The internal load balancer: a production and a test listener, and the blue and green target groups. */
  private loadBalancing(): {
    loadBalancer: elbv2.NetworkLoadBalancer;
    blueTargetGroup: elbv2.NetworkTargetGroup;
    greenTargetGroup: elbv2.NetworkTargetGroup;
    listener: elbv2.NetworkListener;
    testListener: elbv2.NetworkListener;
  } {
    const loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: false,
      vpcSubnets: this.subnets,
    });
    if (this.accessLogsBucket !== undefined) hardenLoadBalancer(loadBalancer, this.accessLogsBucket);
    acknowledge(loadBalancer, [
      {
        id: 'AwsSolutions-ELB2',
        reason: "Internal load balancer reached only through API Gateway's VPC link; API Gateway's access logs record every request",
      },
    ]);
    const targetGroup = (tgId: string) =>
      new elbv2.NetworkTargetGroup(this, tgId, {
        vpc: this.vpc,
        port: TRITON_HTTP_PORT,
        protocol: elbv2.Protocol.TCP,
        targetType: elbv2.TargetType.IP,
        deregistrationDelay: Duration.seconds(30),
        healthCheck: {
          protocol: elbv2.Protocol.HTTP,
          path: '/v2/health/ready',
          port: String(TRITON_HTTP_PORT),
          interval: Duration.seconds(10),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
    const blueTargetGroup = targetGroup('BlueTargetGroup');
    const greenTargetGroup = targetGroup('GreenTargetGroup');
    const listener = loadBalancer.addListener('Listener', {
      port: ECS_PRODUCTION_PORT,
      protocol: elbv2.Protocol.TCP,
      defaultTargetGroups: [blueTargetGroup],
    });
    const testListener = loadBalancer.addListener('TestListener', {
      port: ECS_TEST_PORT,
      protocol: elbv2.Protocol.TCP,
      defaultTargetGroups: [greenTargetGroup],
    });
    return { loadBalancer, blueTargetGroup, greenTargetGroup, listener, testListener };
  }

  /**
   * The service, in the blue target group at first, its tasks reachable on Triton's port from the VPC
   * only. A deployment puts the new tasks in the other group, moves the test listener to them, runs the
   * golden-sample hook, then shifts the production listener by the rollout's steps; an unhealthy-target
   * alarm rolls it back at any point until the bake time is over.
   */
  private tritonService(
    min: number,
    max: number,
    targetCpuUtilization: number,
    rollout: RolloutServiceProps,
    hook: ecs.IDeploymentLifecycleHookTarget,
  ): ecs.Ec2Service {
    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: `Triton tasks of ${this.modelName}: port ${TRITON_HTTP_PORT} from the VPC (the load balancer), nothing else`,
      allowAllOutbound: true,
    });
    taskSecurityGroup.addIngressRule(ec2.Peer.ipv4(this.vpc.vpcCidrBlock), ec2.Port.tcp(TRITON_HTTP_PORT), 'Load balancer to Triton HTTP');
    acknowledge(taskSecurityGroup, [
      {
        id: 'AwsSolutions-EC23',
        reason:
          "Ingress is the VPC's own CIDR on Triton's port only, where the internal load balancer's nodes are; cdk-nag cannot resolve the CIDR token",
      },
    ]);
    const service = new ecs.Ec2Service(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: min,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      deploymentController: { type: ecs.DeploymentControllerType.ECS },
      ...rollout,
      deploymentAlarms: { alarmNames: this.unhealthyAlarms.map((a) => a.alarmName), behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
      // Tasks that never start (Triton exits on a bad repository) register no target, so no alarm sees them;
      // the circuit breaker does, within minutes instead of ECS's hours of retries ("Amazon ECS deployment
      // failure detection": it and the alarms both apply to blue/green deployments).
      circuitBreaker: { enable: true, rollback: true },
      lifecycleHooks: [hook],
      capacityProviderStrategies: [{ capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 }],
      securityGroups: [taskSecurityGroup],
      vpcSubnets: this.subnets,
      healthCheckGracePeriod: Duration.seconds(300),
    });
    service
      .loadBalancerTarget({
        containerName: this.container.containerName,
        containerPort: TRITON_HTTP_PORT,
        alternateTarget: new ecs.AlternateTarget('GreenTargetGroup', {
          alternateTargetGroup: this.greenTargetGroup,
          productionListener: ecs.ListenerRuleConfiguration.networkListener(this.listener),
          testListener: ecs.ListenerRuleConfiguration.networkListener(this.testListener),
          role: this.loadBalancerRole,
        }),
      })
      .attachToNetworkTargetGroup(this.blueTargetGroup);
    service
      .autoScaleTaskCount({ minCapacity: min, maxCapacity: max })
      .scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: targetCpuUtilization });
    return service;
  }

  /**
   * An unhealthy target in either target group, two minutes running: the deployment in progress rolls
   * back. ECS alternates which group the new tasks join, so both are watched.
   */
  private unhealthyTargetAlarms(): cloudwatch.Alarm[] {
    return (
      [
        ['BlueUnhealthyAlarm', this.blueTargetGroup],
        ['GreenUnhealthyAlarm', this.greenTargetGroup],
      ] as const
    ).map(
      ([alarmId, tg]) =>
        new cloudwatch.Alarm(this, alarmId, {
          metric: tg.metrics.unHealthyHostCount({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
          threshold: 1,
          evaluationPeriods: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `${this.modelName}: a Triton task failed /v2/health/ready; a deployment in progress rolls back`,
        }),
    );
  }

  private bucketLogicalId(bucket: s3.Bucket): string {
    return Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  }

  /** The model's name, as the package gives it. */
  get modelName(): string {
    return this.modelPackage.name;
  }

  /** The package version being served. */
  get modelVersion(): string {
    return this.modelPackage.version;
  }

  /** Average CPU utilization of the service's tasks. @default - average over 5 minutes */
  metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricCpuUtilization(props);
  }

  /**
   * Targets failing Triton's readiness check, in the blue and the green target group together: which one
   * serves production swaps at every deployment. A group with no data counts as none.
   * @default - average over 5 minutes
   */
  metricUnhealthyTargets(props?: cloudwatch.MetricOptions): cloudwatch.MathExpression {
    return this.bothTargetGroups('unhealthy', (tg, p) => tg.metrics.unHealthyHostCount(p), props);
  }

  /** Targets passing Triton's readiness check, in both target groups together. @default - average over 5 minutes */
  metricHealthyTargets(props?: cloudwatch.MetricOptions): cloudwatch.MathExpression {
    return this.bothTargetGroups('healthy', (tg, p) => tg.metrics.healthyHostCount(p), props);
  }

  /**
   * The routes' integrations: infer is an HTTP proxy through the VPC link to Triton's own infer path,
   * body, headers and status unchanged; metadata and ready are answered by API Gateway from the
   * package's manifest, with the router's bytes. Called by ModelApi.addModel.
   */
  bind(): ModelBackendBinding {
    return {
      integrations: { ...manifestMocks(this.modelPackage), infer: ecsInferIntegration(this) },
      readMethodOptions: MANIFEST_MOCK_METHOD,
      widgets: ecsModelWidgets(this),
    };
  }

  /** `what` names the expression's metrics too: a graph holding two of these needs distinct ids. */
  private bothTargetGroups(
    what: 'healthy' | 'unhealthy',
    metric: (tg: elbv2.NetworkTargetGroup, props: cloudwatch.MetricOptions) => cloudwatch.Metric,
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `FILL(${what}Blue, 0) + FILL(${what}Green, 0)`,
      usingMetrics: { [`${what}Blue`]: metric(this.blueTargetGroup, props), [`${what}Green`]: metric(this.greenTargetGroup, props) },
      label: props.label ?? `${what} targets`,
      color: props.color,
      period: props.period,
    });
  }
}
