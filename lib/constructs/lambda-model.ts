/**
 * A CPU model on Lambda: the inference handler with the package in its code, onnxruntime-node in a
 * pruned layer, a new version for every change, alias `live`, and a CodeDeploy canary that a version
 * reaches only after it answers the package's golden samples correctly.
 */
import { Annotations, AssetStaging, type CfnElement, Duration, RemovalPolicy, type Size, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import type { IModelBackend, ModelBackendBinding, ModelBackendBindOptions } from './model-backend';
import type { ModelPackage } from './model-package';
import { OnnxRuntimeLayer } from './onnx-runtime-layer';
import type { PackageTrust } from './package-trust';
import { SIGNATURE_FILE } from '../package/package-files';
import { addEnvironment } from './private/handler-function';
import { lambdaModelWidgets } from './private/dashboard';
import { handlerFunction } from './private/handler-function';
import { INFERENCE_APART_MODULES, inferenceExternalModules } from './private/inference-bundle';
import { acknowledge } from './private/nag';
import { PreTrafficHook } from './private/pre-traffic-hook';
import { registryPackageEnvironment } from './private/registry-package';
import { logRetention as profileRetention, notifyAlarms, type ProfileProps, resolveProfile } from './private/profile';
import { rollbackAlarms } from './private/rollback-alarms';
import {
  API_GATEWAY_TIMEOUT_SECONDS,
  defaultEphemeralStorage,
  defaultMemorySize,
  defaultTimeout,
  diskBytes,
  formatBytes,
  LAMBDA_UNZIPPED_LIMIT_BYTES,
  MAX_MEMORY_MIB,
  MIN_MEMORY_MIB,
  ortThreadsForMemory,
} from './private/sizing';
import { ORT_THREADS_ENV } from '../engine/session-options';
import { checkDuration, checkInteger, checkPositive } from './private/validate';

/** Where the package's files sit in the function's code, and so under /var/task. */
export const MODEL_DIR_IN_ASSET = 'model';
/** The alias that API Gateway invokes and CodeDeploy shifts. */
export const LIVE_ALIAS = 'live';

/** Log levels the Powertools logger takes. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Properties of a {@link LambdaModel}. */
export interface LambdaModelProps extends ProfileProps {
  /**
   * The package to serve; its target must be cpu. A directory package ships in the function's code; a
   * registry package (ModelPackage.fromRegistry) is fetched from S3 at init and checked against its sha256.
   */
  readonly modelPackage: ModelPackage;
  /**
   * The function's architecture; the onnxruntime layer holds that architecture's binaries only.
   * @default lambda.Architecture.X86_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Memory in MiB, which also sets the CPU share.
   * @default - 256 MiB plus 3x the model, in 64 MiB steps, from 1024 to 10240
   */
  readonly memorySize?: number;
  /**
   * How long one invocation may run.
   * @default - 10 seconds plus 1 second per 10 MiB of model, at most 29 seconds (API Gateway's limit)
   */
  readonly timeout?: Duration;
  /**
   * The function's /tmp storage, where a registry package is downloaded and unpacked.
   * @default - 512 MiB for a directory package; for a registry package 3x the model plus 256 MiB, at least 1024 MiB
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * Concurrency reserved for this function, which is also its ceiling.
   * @default - no reservation: the function draws on the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Provisioned concurrency on the `live` alias: instances initialized before requests arrive.
   * @default - none: the first request to each new instance waits for the model to load
   */
  readonly provisionedConcurrentExecutions?: number;
  /**
   * How long the function's logs (and its pre-traffic hook's) are kept.
   * @default logs.RetentionDays.ONE_MONTH; ONE_YEAR, the least it accepts, when `hardened`
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray tracing.
   * @default lambda.Tracing.DISABLED; ACTIVE when `hardened`
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Powertools log level (POWERTOOLS_LOG_LEVEL).
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Powertools service name (POWERTOOLS_SERVICE_NAME), in every log line and metric.
   * @default - the model's name
   */
  readonly serviceName?: string;
  /**
   * CloudWatch namespace of the handler's metrics (POWERTOOLS_METRICS_NAMESPACE).
   * @default 'modelship'
   */
  readonly metricsNamespace?: string;
  /**
   * The function's execution role.
   * @default - A new role is created, allowed only to write the function's own log group.
   */
  readonly role?: iam.IRole;
  /**
   * How CodeDeploy shifts traffic from the old version to the new one.
   * @default codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
   */
  readonly deploymentConfig?: codedeploy.ILambdaDeploymentConfig;
  /**
   * Errors of the `live` alias in one minute that roll a deployment back.
   * @default 1
   */
  readonly errorsAlarmThreshold?: number;
  /**
   * p99 duration of the `live` alias that rolls a deployment back, when two of three minutes exceed it.
   * @default - 80% of the timeout
   */
  readonly latencyAlarmThreshold?: Duration;
  /**
   * The keys the package must be signed by (`modelship sign`). The function checks `signature.json` at
   * init, before the session is created, and refuses an unsigned, altered or wrongly signed package; so
   * does the pre-traffic hook, for the golden samples it sends.
   * @default - no signature is required: the package is trusted by its sha256 alone
   */
  readonly trust?: PackageTrust;
}

/**
 * Serves one cpu model package on Lambda through alias `live`, rolled out by CodeDeploy.
 *
 * Every change to the package, the handler or the layer makes a new version. CodeDeploy runs the
 * pre-traffic hook against it, then shifts traffic by `deploymentConfig`, and rolls back when the
 * alias's errors or p99 duration alarm.
 */
export class LambdaModel extends Construct implements IModelBackend {
  /** The package being served. */
  readonly modelPackage: ModelPackage;
  /** The function. */
  readonly lambdaFunction: nodejs.NodejsFunction;
  /** The function's execution role. */
  readonly role: iam.IRole;
  /** The function's log group. */
  readonly logGroup: logs.LogGroup;
  /** The version built from the current package and code. */
  readonly version: lambda.Version;
  /** Alias `live`: what callers invoke and what CodeDeploy shifts. */
  readonly alias: lambda.Alias;
  /** The onnxruntime layer, shared by the stack's models of the same architecture. */
  readonly layer: OnnxRuntimeLayer;
  /** The CodeDeploy deployment group that rolls new versions out. */
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The function CodeDeploy runs before any traffic reaches a new version. */
  readonly preTrafficHook: lambda.IFunction;
  /** Alarm on the alias's errors; it rolls a deployment back. */
  readonly errorsAlarm: cloudwatch.Alarm;
  /** Alarm on the alias's p99 duration; it rolls a deployment back. */
  readonly latencyAlarm: cloudwatch.Alarm;
  /** Memory in MiB, derived or given. */
  readonly memorySize: number;
  /** Timeout, derived or given. */
  readonly timeout: Duration;
  /**
   * Function code plus layer, unzipped, in bytes, measured in the synthesized assets.
   * Undefined when this stack's assets are not bundled (a `cdk deploy` of another stack).
   */
  readonly unzippedBytes?: number;

  constructor(scope: Construct, id: string, props: LambdaModelProps) {
    super(scope, id);
    const pkg = props.modelPackage;
    const target = pkg.tryGetManifest()?.target;
    if (target !== undefined && target !== 'cpu') {
      throw new Error(`LambdaModel serves cpu packages; ${pkg.name} ${pkg.version} (${pkg.location}) targets ${target}`);
    }
    const registry = pkg.registrySource;
    checkInteger('memorySize', props.memorySize, MIN_MEMORY_MIB, MAX_MEMORY_MIB);
    checkDuration('timeout', props.timeout, 900);
    checkInteger('reservedConcurrentExecutions', props.reservedConcurrentExecutions, 0, 1_000_000);
    checkInteger('provisionedConcurrentExecutions', props.provisionedConcurrentExecutions, 1, 1_000_000);
    checkPositive('errorsAlarmThreshold', props.errorsAlarmThreshold);
    checkDuration('latencyAlarmThreshold', props.latencyAlarmThreshold, 900);
    const reserved = props.reservedConcurrentExecutions;
    const provisioned = props.provisionedConcurrentExecutions;
    if (
      reserved !== undefined &&
      provisioned !== undefined &&
      !Token.isUnresolved(reserved) &&
      !Token.isUnresolved(provisioned) &&
      provisioned > reserved
    ) {
      throw new RangeError(`provisionedConcurrentExecutions (${provisioned}) cannot exceed reservedConcurrentExecutions (${reserved})`);
    }
    if (props.logLevel !== undefined && !LOG_LEVELS.includes(props.logLevel)) {
      throw new RangeError(`logLevel must be one of ${LOG_LEVELS.join(', ')}; got ${String(props.logLevel)}`);
    }

    this.modelPackage = pkg;
    if (registry !== undefined && pkg.modelBytes === undefined && (props.memorySize === undefined || props.timeout === undefined)) {
      Annotations.of(this).addWarningV2(
        'modelship:registry-package-size-unknown',
        `${pkg.name}@${pkg.version} comes from the registry with no modelBytes or manifest: memory, timeout and /tmp get the smallest defaults; ` +
          'pass modelBytes to ModelPackage.fromRegistry, or memorySize, timeout and ephemeralStorageSize here',
      );
    }
    const modelBytes = pkg.modelBytes ?? 0;
    this.memorySize = props.memorySize ?? defaultMemorySize(modelBytes);
    this.timeout = props.timeout ?? defaultTimeout(modelBytes);
    const profile = resolveProfile(this, props);
    const logRetention = profileRetention(profile, props.logRetention, `LambdaModel ${pkg.name} logRetention`);
    this.layer = OnnxRuntimeLayer.of(this, props.architecture ?? lambda.Architecture.X86_64);

    // Fail before copying a package that cannot fit, with the sizes that say why. A registry package
    // is not in the code: it goes to /tmp at init, whose limit is 10 GiB.
    const known = (registry === undefined ? pkg.totalBytes : 0) + this.layer.unzippedBytes;
    if (known > LAMBDA_UNZIPPED_LIMIT_BYTES) {
      throw new Error(
        tooLarge(
          pkg,
          `the package (${formatBytes(pkg.totalBytes)}) plus the onnxruntime layer (${formatBytes(this.layer.unzippedBytes)}) is ${formatBytes(known)}`,
        ),
      );
    }

    const ephemeralStorageSize = props.ephemeralStorageSize ?? (registry === undefined ? undefined : defaultEphemeralStorage(modelBytes));
    // What identifies the bytes served: the tarball a registry package is checked by, else the model file.
    const [hashed, sha256] = registry === undefined ? ['model', pkg.manifest.model.sha256] : ['tarball', registry.tarballSha256];
    const made = handlerFunction(this, {
      handler: 'inference',
      ids: { logGroup: 'LogGroup', role: 'ServiceRole', function: 'Resource' },
      roleDescription: `Model ${pkg.name}: writes its own log group, nothing else`,
      role: props.role,
      logRetention,
      architecture: this.layer.architecture,
      memorySize: this.memorySize,
      timeout: this.timeout,
      ephemeralStorageSize,
      layers: [this.layer],
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      profile,
      reservedConcurrentExecutions: reserved,
      description: `${pkg.name} ${pkg.version} (${hashed} sha256 ${sha256.slice(0, 12)}): Open Inference Protocol v2 on onnxruntime-node`,
      environment: {
        ...(registry === undefined ? { MODEL_DIR: `/var/task/${MODEL_DIR_IN_ASSET}` } : registryPackageEnvironment(pkg, registry)),
        ...(Token.isUnresolved(this.memorySize) ? {} : { [ORT_THREADS_ENV]: String(ortThreadsForMemory(this.memorySize)) }),
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? pkg.name,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'modelship',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      },
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN, description: `${pkg.name} ${pkg.version}` },
      bundling: {
        externalModules: inferenceExternalModules({ registry: registry !== undefined, trustModules: props.trust?.modules ?? [] }),
        apart: INFERENCE_APART_MODULES,
        copy: registry === undefined ? { sourceDir: pkg.directory, files: pkg.files, into: MODEL_DIR_IN_ASSET } : undefined,
      },
    });
    this.lambdaFunction = made.function;
    this.role = made.role;
    this.logGroup = made.logGroup;
    if (props.trust !== undefined) {
      if (registry === undefined && !pkg.files.includes(SIGNATURE_FILE)) {
        throw new Error(
          `LambdaModel ${pkg.name} ${pkg.version}: trust is set, but ${pkg.directory} has no ${SIGNATURE_FILE}; sign it with modelship sign`,
        );
      }
      addEnvironment(this.lambdaFunction, props.trust.bind(this.role).environment);
    }
    // The one tarball object this version loads, and the registry key to decrypt it when SSE-KMS.
    if (registry !== undefined) registry.registry.grantRead(this.role, pkg.name, pkg.version);
    // The version's hash covers the code asset already; the package's sha256 and the layer's content make
    // the reason for a new version explicit and independent of feature flags.
    this.lambdaFunction.invalidateVersionBasedOn(`${sha256} ${this.layer.fingerprint}`);

    if (Stack.of(this).bundlingRequired) {
      const functionBytes = stagedBytes(this.lambdaFunction);
      const layerBytes = stagedBytes(this.layer);
      this.unzippedBytes = functionBytes + layerBytes;
      if (this.unzippedBytes > LAMBDA_UNZIPPED_LIMIT_BYTES) {
        throw new Error(
          tooLarge(
            pkg,
            `the function code (${formatBytes(functionBytes)}) plus the onnxruntime layer (${formatBytes(layerBytes)}) is ${formatBytes(this.unzippedBytes)}`,
          ),
        );
      }
    }

    this.version = this.lambdaFunction.currentVersion;
    this.alias = new lambda.Alias(this, 'LiveAlias', {
      aliasName: LIVE_ALIAS,
      version: this.version,
      provisionedConcurrentExecutions: provisioned,
      description: `Serves ${pkg.name}; CodeDeploy moves it to each new version`,
    });

    const latencyThreshold = props.latencyAlarmThreshold ?? Duration.millis(Math.round(this.timeout.toMilliseconds() * 0.8));
    ({ errorsAlarm: this.errorsAlarm, latencyAlarm: this.latencyAlarm } = rollbackAlarms(this, {
      errors: {
        metric: this.alias.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
        threshold: props.errorsAlarmThreshold ?? 1,
        description: `${pkg.name}: the live alias failed invocations; a deployment in progress rolls back`,
      },
      latency: {
        metric: this.alias.metricDuration({ period: Duration.minutes(1), statistic: cloudwatch.Stats.p(99) }),
        threshold: latencyThreshold.toMilliseconds(),
        description: `${pkg.name}: p99 duration of the live alias over ${latencyThreshold.toMilliseconds()} ms; a deployment in progress rolls back`,
      },
    }));

    const hook = new PreTrafficHook(this, 'PreTrafficHook', {
      modelPackage: pkg,
      target: this.version,
      targetTimeout: this.timeout,
      logRetention,
      ephemeralStorageSize,
      trust: props.trust,
      profile,
    });
    this.preTrafficHook = hook.function;
    // The hook names the version it tests in its environment: CloudFormation must update it before the
    // alias update starts the CodeDeploy deployment that runs it.
    this.alias.node.addDependency(hook);

    // The alarms also notify the topic; CodeDeploy still reads them to roll back.
    notifyAlarms(profile, [this.errorsAlarm, this.latencyAlarm]);

    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      alias: this.alias,
      deploymentConfig: props.deploymentConfig ?? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [this.errorsAlarm, this.latencyAlarm],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      preHook: hook.function,
    });
    const hookLogicalId = Stack.of(this).getLogicalId(hook.function.node.defaultChild as CfnElement);
    acknowledge(this.deploymentGroup, [
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
        reason:
          'AWSCodeDeployRoleForLambdaLimited is the AWS-maintained service role policy for Lambda deployments: alias updates and alarm reads only',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${hookLogicalId}.Arn>:*]`,
        reason:
          'CodeDeploy invokes the pre-traffic hook; aws-cdk-lib grants invoke on the function with any qualifier, and the hook is unqualified',
      },
    ]);
  }

  /** The model's name, as the package gives it. */
  get modelName(): string {
    return this.modelPackage.name;
  }

  /** The package version being served. */
  get modelVersion(): string {
    return this.modelPackage.version;
  }

  /**
   * The routes' integration: a Lambda proxy integration of alias `live` for metadata, ready and infer
   * alike, so the handler's router answers them all. Called by ModelApi.addModel.
   */
  bind(options: ModelBackendBindOptions): ModelBackendBinding {
    if (!this.timeout.isUnresolved() && this.timeout.toSeconds() > API_GATEWAY_TIMEOUT_SECONDS) {
      Annotations.of(options.api).addWarningV2(
        'modelship:timeout-over-api-limit',
        `model "${this.modelName}" has a ${this.timeout.toSeconds()} s timeout, but API Gateway gives up after ${API_GATEWAY_TIMEOUT_SECONDS} s`,
      );
    }
    const integration = new apigw.LambdaIntegration(this.alias, { proxy: true, allowTestInvoke: false });
    return { integrations: { metadata: integration, ready: integration, infer: integration }, widgets: lambdaModelWidgets(this) };
  }

  /** Permits `grantee` to invoke the `live` alias. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.alias.grantInvoke(grantee);
  }

  /** Run time of the `live` alias's invocations, in milliseconds. @default - average over 5 minutes */
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricDuration(props);
  }

  /** Failed invocations of the `live` alias. @default - sum over 5 minutes */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricErrors(props);
  }

  /** Invocations of the `live` alias refused for lack of concurrency. @default - sum over 5 minutes */
  metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricThrottles(props);
  }

  /** Invocations of the `live` alias. @default - sum over 5 minutes */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricInvocations(props);
  }
}

function tooLarge(pkg: ModelPackage, sizes: string): string {
  return (
    `LambdaModel ${pkg.name} ${pkg.version} does not fit in Lambda: ${sizes} unzipped, over Lambda's limit of 250 MB ` +
    `(${LAMBDA_UNZIPPED_LIMIT_BYTES.toLocaleString('en-US')} bytes) for a function and its layers. ` +
    'Serve it on a GPU target (SageMaker or ECS), or make the model smaller.'
  );
}

/** Unzipped bytes of the bundled assets under a construct, as written to the cloud assembly. */
function stagedBytes(construct: IConstruct): number {
  return construct.node
    .findAll()
    .filter((c): c is AssetStaging => c instanceof AssetStaging)
    .reduce((sum, staging) => sum + diskBytes(staging.absoluteStagedPath), 0);
}
