/**
 * The one way modelship creates a Lambda function for one of its handlers: its own log group, a role
 * that may write that log group and nothing else (unless the caller brings a role), and the handler
 * bundled locally by esbuild. LambdaModel, the pre-traffic hook and the JWT authorizer all start here, so
 * that every function gets the same runtime, bundling and least-privilege role.
 */
import type { Duration, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { handlerBundling, type HandlerBundlingOptions } from './bundling';
import { handlerEntry, type HandlerName, ownLockFile } from './project-paths';
import { acknowledge } from './nag';
import { type Profile, profileLogGroup } from './profile';
import { MODELSHIP_RUNTIME } from './runtime';

const TRACING_AND_VPC_WILDCARD =
  'X-Ray PutTraceSegments and PutTelemetryRecords, and the EC2 network-interface actions Lambda needs to run in a VPC, do not support resource-level permissions';

/** Construct ids of the three resources: part of the public contract, so each caller keeps its own. */
export interface HandlerFunctionIds {
  readonly logGroup: string;
  readonly role: string;
  readonly function: string;
}

export interface HandlerFunctionProps {
  readonly handler: HandlerName;
  readonly ids: HandlerFunctionIds;
  /** The description of the role created when `role` is not given: what the function may do. */
  readonly roleDescription: string;
  /** A role of the caller's own; none is created then. */
  readonly role?: iam.IRole;
  readonly logRetention: logs.RetentionDays;
  readonly architecture: lambda.Architecture;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly bundling: HandlerBundlingOptions;
  readonly ephemeralStorageSize?: Size;
  readonly layers?: lambda.ILayerVersion[];
  readonly tracing?: lambda.Tracing;
  readonly reservedConcurrentExecutions?: number;
  readonly currentVersionOptions?: lambda.VersionOptions;
  /** The stack's hardened profile, when on: encrypted logs, the VPC, X-Ray. */
  readonly profile?: Profile;
  /** A VPC of the caller's own, for a function that must reach something inside it; not with the hardened profile, which places functions itself. */
  readonly network?: Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

export interface HandlerFunction {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.IRole;
  readonly logGroup: logs.LogGroup;
}

export function handlerFunction(scope: Construct, props: HandlerFunctionProps): HandlerFunction {
  const profile = props.profile ?? {};
  const logGroup = profileLogGroup(scope, props.ids.logGroup, profile, props.logRetention);
  const role =
    props.role ??
    new iam.Role(scope, props.ids.role, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.roleDescription,
    });
  logGroup.grantWrite(role);
  const hardened = profile.hardening?.functionPlacement();
  if (hardened !== undefined && props.network !== undefined) {
    throw new Error(
      `${props.ids.function}: the hardened profile places functions in its own VPC; a network of the caller's cannot be given too`,
    );
  }
  const placement = hardened ?? props.network;
  if (placement !== undefined) {
    // What Lambda needs to attach the function to the VPC. The role is this function's own or the caller's;
    // aws-cdk-lib adds these only to roles it creates itself.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
  }
  const tracing = hardened?.tracing ?? props.tracing;
  if (placement !== undefined || (tracing !== undefined && tracing !== lambda.Tracing.DISABLED)) {
    acknowledge(role, [{ id: 'AwsSolutions-IAM5[Resource::*]', reason: TRACING_AND_VPC_WILDCARD }]);
  }
  const fn = new nodejs.NodejsFunction(scope, props.ids.function, {
    ...placement,
    entry: handlerEntry(props.handler),
    handler: 'handler',
    depsLockFilePath: ownLockFile(),
    runtime: MODELSHIP_RUNTIME,
    architecture: props.architecture,
    memorySize: props.memorySize,
    timeout: props.timeout,
    ephemeralStorageSize: props.ephemeralStorageSize,
    role,
    logGroup,
    layers: props.layers,
    tracing,
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    description: props.description,
    environment: props.environment,
    currentVersionOptions: props.currentVersionOptions,
    bundling: handlerBundling(props.bundling),
  });
  return { function: fn, role, logGroup };
}

/** Adds variables to a function made here, after the fact: for what needs the function's role first. */
export function addEnvironment(fn: lambda.Function, environment: Record<string, string>): void {
  for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
}
