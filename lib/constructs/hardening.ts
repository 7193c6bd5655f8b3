/**
 * The hardened profile: what AWS Control Tower's proactive controls (cfn-guard rules over the template)
 * ask of the resources modelship makes, shared by every construct of a stack that turns it on:
 *
 * - one customer-managed KMS key, rotated, that encrypts every log group and the alarm topic;
 * - log groups kept at least a year (CT.CLOUDWATCH.PR.2) and encrypted with that key (CT.CLOUDWATCH.PR.3);
 * - an SNS topic, encrypted and TLS-only, that every alarm notifies (CT.CLOUDWATCH.PR.1);
 * - a VPC for the Lambda functions (CT.LAMBDA.PR.3): isolated subnets in two zones, no NAT gateway and
 *   no internet gateway, with the endpoints the functions call: S3 (gateway), KMS, CloudWatch Logs, X-Ray,
 *   CodeDeploy, SageMaker runtime and Lambda; its flow logs go to an encrypted log group;
 * - X-Ray tracing on the stage (CT.APIGATEWAY.PR.2) and on the functions.
 *
 * One per stack, created by the first construct that asks for it, or up front with your own VPC or topic.
 */
import { Aws, type Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';

/** The shortest retention Control Tower's CT.CLOUDWATCH.PR.2 accepts. */
export const HARDENED_MIN_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/** Properties of {@link Hardening}. */
export interface HardeningProps {
  /**
   * The VPC the functions run in. Its subnets of type PRIVATE_ISOLATED (or PRIVATE_WITH_EGRESS) are used;
   * it must reach S3, KMS, CloudWatch Logs, X-Ray, CodeDeploy, SageMaker runtime and Lambda.
   * @default - a new VPC: two zones of isolated subnets and the endpoints above, no NAT gateway
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The topic every alarm notifies.
   * @default - a new topic encrypted with the profile's key
   */
  readonly alarmTopic?: sns.ITopic;
}

const ID = 'ModelshipHardening';

export class Hardening extends Construct {
  /**
   * The stack's profile: created on the first call, with `props`; later calls return it. Passing props
   * once it exists is an error, so that no construct silently gets a VPC other than the one asked for.
   */
  static of(scope: IConstruct, props?: HardeningProps): Hardening {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(ID);
    if (existing instanceof Hardening) {
      if (props !== undefined)
        throw new Error(`${stack.node.path} already has its hardened profile; pass its props on the first Hardening.of`);
      return existing;
    }
    return new Hardening(stack, ID, props ?? {});
  }

  /** Encrypts every log group and the alarm topic. */
  readonly key: kms.Key;
  readonly alarmTopic: sns.ITopic;
  readonly vpc: ec2.IVpc;
  /** The functions' security group: outbound only, and the subnets have no route out but the endpoints. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  /** The interface endpoints' security group; none when the VPC is the caller's own. */
  private endpointSecurityGroup?: ec2.SecurityGroup;
  private containerEndpointsAdded = false;

  private constructor(scope: Construct, id: string, props: HardeningProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'modelship hardened profile: encrypts log groups and the alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch Logs encrypts with the key only for this account's log groups in this region.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` } },
      }),
    );
    // CloudWatch alarms publish to the encrypted topic.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    denyGrantsButForAwsServices(this.key);
    this.alarmTopic =
      props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', { masterKey: this.key, enforceSSL: true, displayName: 'modelship alarms' });

    const vpc = props.vpc ?? this.newVpc();
    this.vpc = vpc;
    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc,
      description: 'modelship functions: no inbound; outbound reaches only the VPC endpoints',
      allowAllOutbound: true,
    });
    if (props.vpc === undefined) this.addEndpoints(vpc as ec2.Vpc);
  }

  private newVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'functions', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // The default security group's rules are removed by a CDK custom resource, itself a Lambda outside any
      // VPC (CT.LAMBDA.PR.3); nothing of modelship uses the default group, and the new one denies inbound.
      restrictDefaultSecurityGroup: false,
    });
    const flowLogs = this.logGroup(this, 'VpcFlowLogs', HARDENED_MIN_LOG_RETENTION);
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) });
    return vpc;
  }

  /** The endpoints the functions call, reachable on 443 from the functions' security group only. */
  private addEndpoints(vpc: ec2.Vpc): void {
    const endpointSecurityGroup = (this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc,
      description: 'modelship VPC endpoints: HTTPS from the functions only',
      allowAllOutbound: false,
    }));
    endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, ec2.Port.tcp(443), 'HTTPS from modelship functions');
    vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
      CodeDeploy: ec2.InterfaceVpcEndpointAwsService.CODEDEPLOY,
      SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
      Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
    };
    for (const [id, service] of Object.entries(services)) {
      vpc.addInterfaceEndpoint(id, { service, privateDnsEnabled: true, securityGroups: [endpointSecurityGroup], open: false });
    }
  }

  /**
   * What ECS container instances call with no route out of the VPC: ECR (the image's manifest, then its
   * layers from S3 through the gateway endpoint), ECS and its agent and telemetry endpoints; CloudWatch
   * Logs is there already. Added once per stack, on the first call; every call lets `client` reach every
   * endpoint on 443. With a VPC of your own nothing is added: it must reach these services itself.
   */
  allowContainerInstances(client: ec2.ISecurityGroup): void {
    const group = this.endpointSecurityGroup;
    if (group === undefined) return;
    group.addIngressRule(client, ec2.Port.tcp(443), 'HTTPS from ECS container instances');
    if (this.containerEndpointsAdded) return;
    this.containerEndpointsAdded = true;
    const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
      EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
      EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
    };
    for (const [id, service] of Object.entries(services)) {
      (this.vpc as ec2.Vpc).addInterfaceEndpoint(id, { service, privateDnsEnabled: true, securityGroups: [group], open: false });
    }
  }

  /** A log group kept at least a year and encrypted with the profile's key. */
  logGroup(scope: Construct, id: string, retention: logs.RetentionDays): logs.LogGroup {
    return new logs.LogGroup(scope, id, { retention: atLeastAYear(retention), encryptionKey: this.key });
  }

  /** Where a function runs: the VPC's private subnets, the functions' security group, and X-Ray. */
  functionPlacement(): Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups' | 'tracing'> {
    const isolated = this.vpc.isolatedSubnets.length > 0;
    return {
      vpc: this.vpc,
      vpcSubnets: { subnetType: isolated ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.functionSecurityGroup],
      tracing: lambda.Tracing.ACTIVE,
    };
  }
}

/** `retention`, or a year when it is shorter: the profile's floor. Infinite retention stays. */
export function atLeastAYear(retention: logs.RetentionDays): logs.RetentionDays {
  return retention !== logs.RetentionDays.INFINITE && retention < HARDENED_MIN_LOG_RETENTION ? HARDENED_MIN_LOG_RETENTION : retention;
}

/**
 * CT.S3.PR.4: the bucket's events go to EventBridge. Set on the bucket's own CloudFormation resource,
 * where aws-cdk-lib's `eventBridgeEnabled` would add a custom-resource Lambda outside any VPC
 * (CT.LAMBDA.PR.3). EventBridge delivers S3's events to the default bus at no charge.
 */
export function bucketEventsToEventBridge(bucket: s3.Bucket): void {
  (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
}

/**
 * A bucket that receives S3 server access logs and load balancer access logs, as the S3 controls ask of
 * every bucket but one: versioned, object lock on (no default retention: log delivery refuses a bucket
 * with one), its own access logged into itself under `self/`, expiring by a lifecycle rule, its events to
 * EventBridge. Encrypted with SSE-S3, because S3 server access log delivery supports no other default
 * encryption; that makes it the one bucket CT.S3.PR.10 (SSE-KMS) fails, by design.
 */
export function hardenedLogBucket(scope: Construct, id: string, props: { expiration: Duration; removalPolicy: RemovalPolicy }): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    objectLockEnabled: true,
    serverAccessLogsPrefix: 'self/',
    lifecycleRules: [{ id: 'expire-logs', expiration: props.expiration, noncurrentVersionExpiration: props.expiration }],
    removalPolicy: props.removalPolicy,
  });
  bucketEventsToEventBridge(bucket);
  return bucket;
}

/** Control Tower's CT.KMS.PR.3: grants on the key only for AWS services acting on AWS resources. */
export function denyGrantsButForAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}
