/**
 * What the hardened profile (lib/constructs/hardening.ts) adds to EcsGpuModel, kept apart so that the
 * default ECS path stays as lean as it was: the GPU instances in the profile's isolated subnets, from a
 * launch template with detailed monitoring, in two zones and of two instance types; the Triton task
 * as a non-root user on a read-only root filesystem with a hard memory limit; the repository bucket on
 * the profile's key, versioned, logged and locked; the load balancer's access logs, cross-zone
 * balancing and deletion protection.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { bucketEventsToEventBridge, type Hardening, hardenedLogBucket } from '../hardening';

/**
 * The user the NGC Triton images define (`triton-server`, uid 1000): CT.ECS.PR.3 refuses root, and
 * Triton needs no privilege to serve on port 8000.
 */
export const TRITON_USER = '1000:1000';
/**
 * Where Triton copies a cloud model repository before loading it (its temporary directory), the one
 * path it writes: a task-scoped Docker volume, so that the root filesystem can be read-only
 * (CT.ECS.PR.6). A volume, not a tmpfs, because the copy is the model's size and would count as memory.
 */
export const TRITON_SCRATCH_PATH = '/tmp';

/**
 * The same size in the other NVIDIA family that Control Tower's Nitro lists hold (CT.AUTOSCALING.PR.10
 * and PR.11 list g4dn and g5, not yet g6): the same vCPUs, memory and GPU count at every size, so the
 * task fits either; g4dn's T4 has 16 GB of GPU memory to the A10G's 24.
 */
const NEXT_FAMILY: Readonly<Record<string, string>> = { g5: 'g4dn', g4dn: 'g5' };

/**
 * The instance types the Auto Scaling group may launch: `instanceType` first, then `additional`, or the
 * same size of the neighbouring family (g5, then g4dn). CT.AUTOSCALING.PR.6 asks for two at least, and
 * the second one is what keeps the model serving when a zone runs out of the first.
 */
export function hardenedInstanceTypes(
  what: string,
  instanceType: ec2.InstanceType,
  additional?: readonly ec2.InstanceType[],
): ec2.InstanceType[] {
  const [family, size] = instanceType.toString().split('.');
  const neighbour = NEXT_FAMILY[family];
  const others = additional ?? (neighbour === undefined ? [] : [new ec2.InstanceType(`${neighbour}.${size}`)]);
  const types = [instanceType, ...others.filter((t) => t.toString() !== instanceType.toString())];
  if (new Set(types.map(String)).size < 2) {
    throw new RangeError(
      `${what} additionalInstanceTypes: the hardened profile launches at least two instance types (Control Tower CT.AUTOSCALING.PR.6); ` +
        `give one other than ${instanceType.toString()} with the same GPUs`,
    );
  }
  return types;
}

export interface MixedCapacityProps {
  readonly vpc: ec2.IVpc;
  /** The profile, when on: the instances reach its endpoints, with detailed monitoring. */
  readonly hardening?: Hardening;
  readonly instanceTypes: readonly ec2.InstanceType[];
  readonly subnets: ec2.SubnetSelection;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly blockDevices: ec2.BlockDevice[];
}

/**
 * The GPU instances of more than one instance type: a launch template (IMDSv2 only, no public address;
 * detailed monitoring under the profile, CT.EC2.PR.10) that a mixed instances policy launches as any of
 * the types, on demand, in priority order, in the subnets' zones. The zones are stated on the group as
 * well (CT.AUTOSCALING.PR.1): the same ones.
 */
export function mixedCapacity(scope: Construct, props: MixedCapacityProps): autoscaling.AutoScalingGroup {
  const vpc = props.vpc;
  const securityGroup = new ec2.SecurityGroup(scope, 'InstanceSecurityGroup', {
    vpc,
    description: 'ECS GPU instances: no inbound',
    allowAllOutbound: true,
  });
  props.hardening?.allowContainerInstances(securityGroup);
  const role = new iam.Role(scope, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: 'ECS GPU instances: the ECS agent registers, pulls the image and writes logs',
  });
  const launchTemplate = new ec2.LaunchTemplate(scope, 'CapacityLaunchTemplate', {
    machineImage: ecs.EcsOptimizedImage.amazonLinux2(ecs.AmiHardwareType.GPU),
    userData: ec2.UserData.forLinux(),
    role,
    securityGroup,
    requireImdsv2: true,
    detailedMonitoring: props.hardening !== undefined,
    associatePublicIpAddress: false,
    blockDevices: props.blockDevices,
  });
  const group = new autoscaling.AutoScalingGroup(scope, 'Capacity', {
    vpc,
    vpcSubnets: props.subnets,
    minCapacity: props.minCapacity,
    maxCapacity: props.maxCapacity,
    mixedInstancesPolicy: {
      launchTemplate,
      launchTemplateOverrides: props.instanceTypes.map((instanceType) => ({ instanceType })),
      instancesDistribution: {
        onDemandBaseCapacity: 0,
        onDemandPercentageAboveBaseCapacity: 100,
        onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
      },
    },
  });
  const zones = vpc.selectSubnets(props.subnets).subnets.map((s) => s.availabilityZone);
  (group.node.defaultChild as autoscaling.CfnAutoScalingGroup).availabilityZones = zones;
  return group;
}

/**
 * The repository bucket's hardened settings: the profile's key (CT.S3.PR.10), versioning, server access
 * logs, object lock with no default retention (the deployment writes each prefix once, and prunes
 * nothing), a lifecycle rule for old versions and unfinished uploads, events to EventBridge.
 */
export function hardenedRepositoryBucketProps(hardening: Hardening, accessLogs: s3.IBucket): s3.BucketProps {
  return {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: hardening.key,
    bucketKeyEnabled: true,
    versioned: true,
    objectLockEnabled: true,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'repository/',
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      {
        id: 'expire-noncurrent-versions-and-abort-uploads',
        noncurrentVersionExpiration: Duration.days(30),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
    ],
  };
}

/** The bucket for the repository bucket's server access logs and the load balancer's access logs. */
export function ecsAccessLogsBucket(scope: Construct): s3.Bucket {
  return hardenedLogBucket(scope, 'AccessLogs', { expiration: Duration.days(365), removalPolicy: RemovalPolicy.RETAIN });
}

/** What a hardened stack adds to the repository bucket after aws-cdk-lib made it. */
export function hardenRepositoryBucket(bucket: s3.Bucket): void {
  bucketEventsToEventBridge(bucket);
}

/**
 * The load balancer's attributes: access logs (CT.ELB.PR.6), which a Network Load Balancer writes for
 * TLS listeners only, so with these TCP listeners the prefix stays empty and API Gateway's access log
 * is the record of requests; cross-zone balancing (CT.ELB.PR.14), so that a zone with no healthy task
 * still serves through the other; deletion protection (CT.ELB.PR.5), turned off by hand before the
 * stack can be deleted.
 */
export function hardenLoadBalancer(loadBalancer: elbv2.NetworkLoadBalancer, accessLogs: s3.IBucket): void {
  // By hand rather than logAccessLogs, which needs the stack's region for Application Load Balancers'
  // log accounts; a Network Load Balancer delivers through the log delivery service in every region.
  const prefix = 'load-balancer';
  const delivery = new iam.ServicePrincipal('delivery.logs.amazonaws.com');
  const sourceAccount = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } };
  const put = accessLogs.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [delivery],
      actions: ['s3:PutObject'],
      resources: [accessLogs.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`)],
      conditions: sourceAccount,
    }),
  );
  accessLogs.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [delivery],
      actions: ['s3:GetBucketAcl'],
      resources: [accessLogs.bucketArn],
      conditions: sourceAccount,
    }),
  );
  loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
  loadBalancer.setAttribute('access_logs.s3.bucket', accessLogs.bucketName);
  loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
  // The load balancer checks at creation that it may write there.
  if (put.policyDependable !== undefined) loadBalancer.node.addDependency(put.policyDependable);
  loadBalancer.setAttribute('load_balancing.cross_zone.enabled', 'true');
  loadBalancer.setAttribute('deletion_protection.enabled', 'true');
}

/** The task-scoped volume Triton writes its copy of the repository to. */
export const TRITON_SCRATCH_VOLUME: ecs.Volume = {
  name: 'triton-scratch',
  dockerVolumeConfiguration: { scope: ecs.Scope.TASK, driver: 'local' },
};
