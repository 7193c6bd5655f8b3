/**
 * How EcsGpuModel rolls out a new task definition: with ECS's own deployment controller, by canary or
 * linear traffic shifting between two target groups of the Network Load Balancer, and with a lifecycle
 * hook that sends the package's golden samples to the new tasks on the test listener before any
 * production traffic moves. Its code is lambda/ecs-lifecycle-hook.ts; the samples ship in its own asset.
 *
 * Why ECS's own deployments and not CodeDeploy: CloudFormation starts an ECS deployment whenever the
 * service's task definition changes, so `cdk deploy` of a new package rolls it out and waits for the
 * verdict, and a failed rollout fails the stack update. With the CODE_DEPLOY controller CloudFormation
 * registers the new task definition and leaves the service on the old one until someone calls
 * `aws deploy create-deployment`. And behind a Network Load Balancer, which the API Gateway (REST) VPC
 * link needs, CodeDeploy shifts only all at once (CodeDeploy User Guide: "Deployment configurations on
 * an Amazon ECS compute platform"), while ECS shifts by canary or linear steps there too (Amazon ECS
 * Developer Guide: "Network Load Balancer resources for Amazon ECS blue/green, linear and canary
 * deployments"). Its lifecycle hook returns the verdict, so the hook calls no AWS API.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ModelPackage } from '../model-package';
import { handlerFunction } from './handler-function';
import type { Profile } from './profile';
import { GOLDEN_DIR } from './pre-traffic-hook';
import { API_GATEWAY_TIMEOUT_SECONDS } from './sizing';

/** How a new task definition's tasks take production traffic from the old ones. */
export interface EcsRollout {
  /**
   * `canary`: `percent` of production traffic for `interval`, then the rest. `linear`: `percent` more
   * every `interval`.
   * @default 'canary'
   */
  readonly strategy?: 'canary' | 'linear';
  /**
   * Percent of production traffic shifted in the canary step, or in each linear step. A multiple of
   * 0.1: from 0.1 for a canary, from 3 for linear steps, to 100.
   * @default 10
   */
  readonly percent?: number;
  /**
   * How long each step holds before the next, in whole minutes (at most 24 hours).
   * @default Duration.minutes(5)
   */
  readonly interval?: Duration;
  /**
   * How long the old tasks are kept once all production traffic is on the new ones, so that an alarm
   * can still roll back to them; in whole minutes (at most 24 hours).
   * @default Duration.minutes(5)
   */
  readonly bakeTime?: Duration;
}

/** The deployment properties of the service, checked. */
export type RolloutServiceProps = Pick<
  ecs.Ec2ServiceProps,
  'deploymentStrategy' | 'canaryConfiguration' | 'linearConfiguration' | 'bakeTime'
>;

const MAX_MINUTES = 1440;

function checkMinutes(what: string, value: Duration): void {
  if (value.isUnresolved()) return;
  const minutes = value.toSeconds() / 60;
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_MINUTES) {
    throw new RangeError(`${what} must be whole minutes from 0 to ${MAX_MINUTES}; got ${value.toHumanString()}`);
  }
}

/** `rollout` as the service's deployment properties; throws naming the bad field. Default: canary 10% for 5 minutes. */
export function rolloutServiceProps(rollout: EcsRollout = {}): RolloutServiceProps {
  const strategy = rollout.strategy ?? 'canary';
  if (strategy !== 'canary' && strategy !== 'linear') {
    throw new TypeError(`rollout.strategy must be 'canary' or 'linear'; got ${JSON.stringify(strategy)}`);
  }
  const percent = rollout.percent ?? 10;
  const least = strategy === 'canary' ? 0.1 : 3;
  const tenths = percent * 10;
  if (
    !Token.isUnresolved(percent) &&
    (!Number.isFinite(tenths) || Math.abs(tenths - Math.round(tenths)) > 1e-9 || percent < least || percent > 100)
  ) {
    throw new RangeError(`rollout.percent of a ${strategy} rollout must be a multiple of 0.1 from ${least} to 100; got ${percent}`);
  }
  const interval = rollout.interval ?? Duration.minutes(5);
  checkMinutes('rollout.interval', interval);
  const bakeTime = rollout.bakeTime ?? Duration.minutes(5);
  checkMinutes('rollout.bakeTime', bakeTime);
  const step: ecs.TrafficShiftConfig = { stepPercent: percent, stepBakeTime: interval };
  return strategy === 'canary'
    ? { deploymentStrategy: ecs.DeploymentStrategy.CANARY, canaryConfiguration: step, bakeTime }
    : { deploymentStrategy: ecs.DeploymentStrategy.LINEAR, linearConfiguration: step, bakeTime };
}

export interface GoldenSampleHookProps {
  readonly modelPackage: ModelPackage;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The hardened profile, when on: it places the function in its VPC, with X-Ray and its log group. */
  readonly profile?: Profile;
  /** `http://<load balancer>:<port>` of the test listener. */
  readonly testListenerUrl: string;
  readonly testListenerPort: number;
  readonly logRetention: logs.RetentionDays;
}

/** Time kept for init and for returning the verdict, on top of the requests' own. */
const HOOK_OVERHEAD_SECONDS = 30;
const MAX_HOOK_TIMEOUT_SECONDS = 900;

/**
 * The POST_TEST_TRAFFIC_SHIFT hook: a function in the VPC that may reach the test listener and nothing
 * else, and the role ECS assumes to invoke it, which may invoke this one function only.
 */
export class GoldenSampleHook extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.IRole;
  /** Out to the test listener only; none under the profile, whose functions' group it shares. */
  readonly securityGroup?: ec2.SecurityGroup;
  /** The role ECS assumes to invoke the function. */
  readonly invokeRole: iam.Role;
  /** What the service's `lifecycleHooks` takes. */
  readonly target: ecs.DeploymentLifecycleLambdaTarget;

  constructor(scope: Construct, id: string, props: GoldenSampleHookProps) {
    super(scope, id);
    const pkg = props.modelPackage;
    const hardened = props.profile?.hardening !== undefined;
    if (!hardened) {
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `Golden-sample hook of ${pkg.name}: out to the test listener (port ${props.testListenerPort}) only`,
        allowAllOutbound: false,
      });
      this.securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(props.testListenerPort), 'To the test listener');
    }
    // A request waits at most as long as API Gateway would wait for Triton: a slower answer fails in production too.
    const requestTimeout = Duration.seconds(API_GATEWAY_TIMEOUT_SECONDS);
    const requests = pkg.manifest.samples.length + 1;
    const made = handlerFunction(this, {
      handler: 'ecs-lifecycle-hook',
      ids: { logGroup: 'LogGroup', role: 'ServiceRole', function: 'Resource' },
      roleDescription: `Golden-sample hook of ${pkg.name}'s ECS deployments: writes its own log group, nothing else`,
      logRetention: props.logRetention,
      // No native code: arm64 is the cheaper architecture.
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(Math.min(MAX_HOOK_TIMEOUT_SECONDS, requests * requestTimeout.toSeconds() + HOOK_OVERHEAD_SECONDS)),
      description: `ECS lifecycle hook: golden samples of ${pkg.name} ${pkg.version} against the new tasks on the test listener`,
      environment: {
        TEST_LISTENER_URL: props.testListenerUrl,
        GOLDEN_DIR: `/var/task/${GOLDEN_DIR}`,
        REQUEST_TIMEOUT_MS: String(requestTimeout.toMilliseconds()),
        POWERTOOLS_SERVICE_NAME: `${pkg.name}-ecs-lifecycle-hook`,
      },
      profile: props.profile,
      network: this.securityGroup && { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: [this.securityGroup] },
      bundling: { externalModules: [], copy: { sourceDir: pkg.directory, files: pkg.goldenFiles, into: GOLDEN_DIR } },
    });
    this.function = made.function;
    this.role = made.role;

    // aws-cdk-lib's own role for a hook would grant `<function>:*` as well; ECS invokes the unqualified ARN.
    this.invokeRole = new iam.Role(this, 'InvokeRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: `ECS: invokes the golden-sample hook of ${pkg.name}, nothing else`,
    });
    this.invokeRole.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }));
    this.target = new ecs.DeploymentLifecycleLambdaTarget(this.function, 'GoldenSamples', {
      lifecycleStages: [ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
      role: this.invokeRole,
    });
  }
}
