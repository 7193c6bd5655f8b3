/**
 * A GPU model on a SageMaker real-time endpoint running NVIDIA Triton: the package becomes a
 * deterministic model.tar.gz asset (or, for a registry package, the artifact `modelship publish` put
 * next to it is used where it lies), the endpoint rolls new versions out blue/green with canary or
 * linear traffic shifting, and alarms on p99 latency and 5xx errors roll a deployment back.
 */
import { ArnFormat, AssetHashType, CfnMapping, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import type { TritonModelConfigOptions } from '../triton/types';
import type { IModelBackend, ModelBackendBinding, ModelBackendBindOptions } from './model-backend';
import type { ModelPackage } from './model-package';
import { sageMakerModelWidgets } from './private/dashboard';
import { sageMakerInferIntegration, TRANSPARENT_INFER_METHOD } from './private/gpu-integrations';
import { acknowledge } from './private/nag';
import { MANIFEST_MOCK_METHOD, manifestMocks } from './private/protocol-templates';
import { notifyAlarms, type ProfileProps, resolveProfile } from './private/profile';
import { rollbackAlarms } from './private/rollback-alarms';
import { sageMakerArtifactBundling } from './private/triton-build';
import { DEFAULT_SAGEMAKER_TRITON_TAG, IMAGE_TAG, SAGEMAKER_TRITON_ACCOUNTS, SAGEMAKER_TRITON_REPOSITORY } from './private/triton-images';
import { SageMakerTrafficRouting } from './sagemaker-traffic-routing';
import { checkCapacity, checkDuration, checkInteger, checkPositive } from './private/validate';

/** The production variant every modelship endpoint serves from. */
export const SAGEMAKER_VARIANT_NAME = 'AllTraffic';

/** Where and how much of the traffic an endpoint captures. */
export interface SageMakerDataCaptureProps {
  /** The bucket captured requests and responses go to. */
  readonly bucket: s3.IBucket;
  /**
   * Key prefix in the bucket, without a trailing slash.
   * @default 'data-capture'
   */
  readonly prefix?: string;
  /**
   * Percentage of requests captured, 1 to 100.
   * @default 100
   */
  readonly samplingPercentage?: number;
  /**
   * KMS key that encrypts the captured data.
   * @default - the bucket's encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/** Properties of a {@link SageMakerModel}. */
export interface SageMakerModelProps extends ProfileProps {
  /**
   * The package to serve; its target must be gpu. A registry package (`ModelPackage.fromRegistry`) must be
   * given its `manifest`, and is served from its published SageMaker artifact, built with default Triton options.
   */
  readonly modelPackage: ModelPackage;
  /**
   * The instance type of the endpoint's variant.
   * @default 'ml.g5.xlarge'
   */
  readonly instanceType?: string;
  /**
   * Instances the endpoint starts with.
   * @default 1
   */
  readonly initialInstanceCount?: number;
  /**
   * Fewest instances Application Auto Scaling keeps.
   * @default - initialInstanceCount
   */
  readonly minCapacity?: number;
  /**
   * Most instances Application Auto Scaling adds.
   * @default - twice minCapacity
   */
  readonly maxCapacity?: number;
  /**
   * Invocations per instance per minute that target tracking holds (SageMakerVariantInvocationsPerInstance).
   * @default 1000
   */
  readonly targetInvocationsPerInstance?: number;
  /**
   * Tag of the `sagemaker-tritonserver` image.
   * @default '24.09-py3'
   */
  readonly imageTag?: string;
  /**
   * How Triton batches and places the model (config.pbtxt). Not for a registry package: its artifact was
   * built by `modelship publish` with the defaults.
   * @default - lib/triton's defaults: dynamic batching up to 64, one instance per GPU
   */
  readonly tritonConfig?: TritonModelConfigOptions;
  /**
   * KMS key that encrypts the storage volume of the endpoint's instances.
   * @default - SageMaker's own key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Capture of requests and responses to S3.
   * @default - no capture
   */
  readonly dataCapture?: SageMakerDataCaptureProps;
  /**
   * How a new version takes over traffic.
   * @default SageMakerTrafficRouting.CANARY_10PERCENT_5MINUTES
   */
  readonly trafficRouting?: SageMakerTrafficRouting;
  /**
   * How long the old fleet stays after all traffic has moved, ready for a rollback.
   * @default Duration.minutes(5)
   */
  readonly terminationWait?: Duration;
  /**
   * p99 of ModelLatency that rolls a deployment back, when two of three minutes exceed it.
   * @default Duration.seconds(1)
   */
  readonly latencyAlarmThreshold?: Duration;
  /**
   * Invocation5XXErrors in one minute that roll a deployment back.
   * @default 1
   */
  readonly errorsAlarmThreshold?: number;
  /**
   * The execution role SageMaker assumes.
   * @default - A new role is created, allowed to read this model's artifact object, pull the Triton image and write the endpoint's logs.
   */
  readonly role?: iam.IRole;
}

const MAPPING_ID = 'ModelshipSageMakerTritonAccounts';

/** The stack's region -> account mapping of the Triton image, created once per stack. */
function tritonAccounts(scope: Construct): CfnMapping {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(MAPPING_ID);
  if (existing instanceof CfnMapping) return existing;
  const mapping: Record<string, Record<string, string>> = {};
  for (const [region, account] of Object.entries(SAGEMAKER_TRITON_ACCOUNTS)) mapping[region] = { account };
  // Lazy: a stack with a concrete region gets the account itself, and no mapping.
  return new CfnMapping(stack, MAPPING_ID, { mapping, lazy: true });
}

/**
 * Serves one gpu model package on a SageMaker real-time endpoint with Triton Inference Server, which
 * speaks Open Inference Protocol v2. Add it to a {@link ModelApi} with `addModel`.
 *
 * A change to the package makes a new artifact, a new SageMaker model and endpoint config, and so an
 * endpoint update: a blue/green deployment shifting traffic by `trafficRouting`, rolled back when the
 * latency or errors alarm fires.
 */
export class SageMakerModel extends Construct implements IModelBackend {
  /** The package being served. */
  readonly modelPackage: ModelPackage;
  /** The model.tar.gz asset; undefined for a registry package, whose published artifact is used. */
  readonly artifact?: s3assets.Asset;
  /** Where SageMaker reads model.tar.gz: `s3://bucket/key` of the asset, or of the registry's artifact. */
  readonly modelDataUrl: string;
  /** The execution role. */
  readonly role: iam.IRole;
  /** The SageMaker model. */
  readonly model: sagemaker.CfnModel;
  /** The endpoint config. */
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  /** The endpoint. */
  readonly endpoint: sagemaker.CfnEndpoint;
  /** The endpoint's name: lower case, fixed for the life of the construct. */
  readonly endpointName: string;
  /** The endpoint's ARN. */
  readonly endpointArn: string;
  /** The Triton image URI, resolved per region at deploy time. */
  readonly imageUri: string;
  /** The instance type. */
  readonly instanceType: string;
  /** Alarm on the variant's p99 ModelLatency; it rolls a deployment back. */
  readonly latencyAlarm: cloudwatch.Alarm;
  /** Alarm on the variant's Invocation5XXErrors; it rolls a deployment back. */
  readonly errorsAlarm: cloudwatch.Alarm;
  /** The variant's scalable instance count. */
  readonly scalableTarget: appscaling.ScalableTarget;

  constructor(scope: Construct, id: string, props: SageMakerModelProps) {
    super(scope, id);
    const pkg = props.modelPackage;
    const source = pkg.registrySource;
    if (source !== undefined && pkg.tryGetManifest() === undefined) {
      throw new Error(
        `SageMakerModel: ${pkg.name}@${pkg.version} from the registry (${pkg.location}) needs its manifest: pass the \`manifest\` option ` +
          'to ModelPackage.fromRegistry (the modelship.json of a `modelship pull`ed copy); the API answers metadata from it and Triton names the model by it',
      );
    }
    if (source !== undefined && props.tritonConfig !== undefined) {
      throw new Error(
        `SageMakerModel: tritonConfig cannot be applied to ${pkg.name}@${pkg.version} from the registry (${pkg.location}): ` +
          'its published artifact was built by `modelship publish` with the default Triton options; deploy the package directory to customize the config',
      );
    }
    if (pkg.manifest.target !== 'gpu') {
      throw new Error(`SageMakerModel serves gpu packages; ${pkg.name} ${pkg.version} (${pkg.location}) targets ${pkg.manifest.target}`);
    }
    const initial = props.initialInstanceCount ?? 1;
    checkInteger('initialInstanceCount', initial, 1, 10_000);
    const min = props.minCapacity ?? initial;
    const max = props.maxCapacity ?? min * 2;
    checkCapacity(min, max, 10_000);
    checkPositive('targetInvocationsPerInstance', props.targetInvocationsPerInstance);
    checkPositive('errorsAlarmThreshold', props.errorsAlarmThreshold);
    const latencyMs = props.latencyAlarmThreshold?.isUnresolved() === false ? props.latencyAlarmThreshold.toMilliseconds() : undefined;
    if (latencyMs !== undefined && (latencyMs < 1 || latencyMs > 3_600_000))
      throw new RangeError(`latencyAlarmThreshold must be from 1 ms to 1 hour; got ${latencyMs} ms`);
    checkDuration('terminationWait', props.terminationWait, 3600);
    const imageTag = props.imageTag ?? DEFAULT_SAGEMAKER_TRITON_TAG;
    if (!Token.isUnresolved(imageTag) && !IMAGE_TAG.test(imageTag))
      throw new RangeError(`imageTag must be an ECR image tag; got "${imageTag}"`);
    this.instanceType = props.instanceType ?? 'ml.g5.xlarge';
    if (!Token.isUnresolved(this.instanceType) && !/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(this.instanceType)) {
      throw new RangeError(`instanceType must be a SageMaker instance type such as ml.g5.xlarge; got "${this.instanceType}"`);
    }
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && SAGEMAKER_TRITON_ACCOUNTS[region] === undefined) {
      throw new Error(`SageMaker has no Triton image in ${region}; regions with one: ${Object.keys(SAGEMAKER_TRITON_ACCOUNTS).join(', ')}`);
    }
    const capture = props.dataCapture;
    if (capture !== undefined) checkInteger('dataCapture.samplingPercentage', capture.samplingPercentage, 1, 100);
    const capturePrefix = capture?.prefix ?? 'data-capture';
    if (capture !== undefined && !Token.isUnresolved(capturePrefix) && (capturePrefix.startsWith('/') || capturePrefix.endsWith('/'))) {
      throw new RangeError(`dataCapture.prefix must not start or end with "/"; got "${capturePrefix}"`);
    }

    this.modelPackage = pkg;
    // Lower case: SageMaker writes endpoint names lower case in ARNs, which the grants must match.
    this.endpointName = Names.uniqueResourceName(this, { maxLength: 63, separator: '-' }).toLowerCase();
    this.endpointArn = Stack.of(this).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: this.endpointName });

    if (source === undefined) {
      this.artifact = new s3assets.Asset(this, 'Artifact', {
        path: pkg.directory,
        // The tarball's own hash: the same package and options always give the same bytes.
        assetHashType: AssetHashType.OUTPUT,
        bundling: sageMakerArtifactBundling(pkg.directory, props.tritonConfig ?? {}),
      });
      this.modelDataUrl = this.artifact.s3ObjectUrl;
    } else {
      // Synth downloads nothing: SageMaker reads the artifact `modelship publish` put next to the tarball.
      this.modelDataUrl = source.registry.bucket.s3UrlForObject(source.registry.sagemakerArtifactKey(pkg.name, pkg.version));
    }

    const stack = Stack.of(this);
    const account = tritonAccounts(this).findInMap(stack.region, 'account');
    this.imageUri = `${account}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${SAGEMAKER_TRITON_REPOSITORY}:${imageTag}`;

    this.role =
      props.role ??
      new iam.Role(this, 'ExecutionRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description: `Model ${pkg.name}: reads its own artifact, pulls the Triton image, writes its endpoint's logs`,
      });
    if (source !== undefined) {
      // Exactly the one artifact object, and the registry key's kms:Decrypt when SSE-KMS.
      source.registry.grantReadSageMakerArtifact(this.role, pkg.name, pkg.version);
    } else if (this.artifact !== undefined) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadOwnArtifact',
          actions: ['s3:GetObject'],
          resources: [this.artifact.bucket.arnForObjects(this.artifact.s3ObjectKey)],
        }),
      );
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullTritonImage',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: [`arn:${stack.partition}:ecr:${stack.region}:${account}:repository/${SAGEMAKER_TRITON_REPOSITORY}`],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EcrLogin',
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EndpointLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `/aws/sagemaker/Endpoints/${this.endpointName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    if (props.role === undefined) {
      acknowledge(this.role, [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ecr:GetAuthorizationToken has no resource-level permissions; the image pull itself is limited to the sagemaker-tritonserver repository',
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/${this.endpointName}:*]`,
          reason: "Log streams of this endpoint's own log group only; SageMaker names a stream per instance, unknown before deployment",
        },
      ]);
    }
    if (props.encryptionKey !== undefined) props.encryptionKey.grant(this.role, 'kms:CreateGrant', 'kms:DescribeKey');
    if (capture !== undefined) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'WriteDataCapture',
          actions: ['s3:PutObject'],
          resources: [capture.bucket.arnForObjects(`${capturePrefix}/*`)],
        }),
      );
      capture.encryptionKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Encrypt');
      const cfnBucket = capture.bucket.node.defaultChild;
      const bucketArn = cfnBucket instanceof s3.CfnBucket ? `<${stack.getLogicalId(cfnBucket)}.Arn>` : capture.bucket.bucketArn;
      if (props.role === undefined && !Token.isUnresolved(capturePrefix) && !Token.isUnresolved(bucketArn)) {
        acknowledge(this.role, [
          {
            id: `AwsSolutions-IAM5[Resource::${bucketArn}/${capturePrefix}/*]`,
            reason:
              'SageMaker writes captured requests under the capture prefix with keys it makes up (endpoint, variant, date, uuid); PutObject only',
          },
        ]);
      }
    }

    this.model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: {
        image: this.imageUri,
        modelDataUrl: this.modelDataUrl,
        environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: pkg.name },
      },
    });
    // SageMaker checks that the role can read the artifact when the model is created.
    this.model.node.addDependency(this.role);

    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants: [
        {
          variantName: SAGEMAKER_VARIANT_NAME,
          modelName: this.model.attrModelName,
          instanceType: this.instanceType,
          initialInstanceCount: initial,
          initialVariantWeight: 1,
        },
      ],
      kmsKeyId: props.encryptionKey?.keyArn,
      dataCaptureConfig:
        capture === undefined
          ? undefined
          : {
              enableCapture: true,
              destinationS3Uri: capture.bucket.s3UrlForObject(capturePrefix),
              initialSamplingPercentage: capture.samplingPercentage ?? 100,
              captureOptions: [{ captureMode: 'Input' }, { captureMode: 'Output' }],
              captureContentTypeHeader: { jsonContentTypes: ['application/json'] },
              kmsKeyId: capture.encryptionKey?.keyArn,
            },
    });
    if (props.encryptionKey === undefined) {
      acknowledge(this.endpointConfig, [
        {
          id: 'AwsSolutions-SM2',
          reason:
            "Without encryptionKey the instances' storage volumes are encrypted with SageMaker's own key; a customer key is the owner's choice",
        },
      ]);
    }
    acknowledge(this.model, [
      {
        id: 'AwsSolutions-SM1',
        reason:
          'The model reads only its artifact in S3 and calls no network service; a VPC would add NAT or endpoints and change no data path',
      },
    ]);

    const minute = Duration.minutes(1);
    const latency = props.latencyAlarmThreshold ?? Duration.seconds(1);
    ({ errorsAlarm: this.errorsAlarm, latencyAlarm: this.latencyAlarm } = rollbackAlarms(this, {
      errors: {
        metric: this.metricInvocation5XXErrors({ period: minute, statistic: cloudwatch.Stats.SUM }),
        threshold: props.errorsAlarmThreshold ?? 1,
        description: `${pkg.name}: the endpoint answered 5xx; a deployment in progress rolls back`,
      },
      latency: {
        // ModelLatency is in microseconds.
        metric: this.metricModelLatency({ period: minute, statistic: cloudwatch.Stats.p(99) }),
        threshold: latency.toMilliseconds() * 1000,
        description: `${pkg.name}: p99 ModelLatency over ${latency.toMilliseconds()} ms; a deployment in progress rolls back`,
      },
    }));
    // SageMaker runs the model in its own account; the profile adds the alarm topic here, nothing else to harden.
    notifyAlarms(resolveProfile(this, props), [this.errorsAlarm, this.latencyAlarm]);

    const routing = props.trafficRouting ?? SageMakerTrafficRouting.CANARY_10PERCENT_5MINUTES;
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Resource', {
      endpointName: this.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      deploymentConfig: {
        blueGreenUpdatePolicy: {
          trafficRoutingConfiguration: routing.config,
          terminationWaitInSeconds: (props.terminationWait ?? Duration.minutes(5)).toSeconds(),
        },
        autoRollbackConfiguration: { alarms: [{ alarmName: this.latencyAlarm.alarmName }, { alarmName: this.errorsAlarm.alarmName }] },
      },
    });

    this.scalableTarget = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${SAGEMAKER_VARIANT_NAME}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      // Application Auto Scaling acts for SageMaker through this service-linked role, creating it when missing.
      role: iam.Role.fromRoleArn(
        this,
        'ScalingRole',
        Stack.of(this).formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName:
            'aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
        }),
        { mutable: false },
      ),
      minCapacity: min,
      maxCapacity: max,
    });
    this.scalableTarget.node.addDependency(this.endpoint);
    this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: props.targetInvocationsPerInstance ?? 1000,
    });
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
   * The routes' integrations: infer is an AWS integration to InvokeEndpoint that forwards the request
   * body unchanged (v2 JSON, or the binary extension with its SageMaker content type) and returns
   * Triton's answer unchanged; metadata and ready are answered by API Gateway from the package's
   * manifest, with the router's bytes. Called by ModelApi.addModel.
   */
  bind(options: ModelBackendBindOptions): ModelBackendBinding {
    return {
      integrations: { ...manifestMocks(this.modelPackage), infer: sageMakerInferIntegration(options.scope, this) },
      readMethodOptions: MANIFEST_MOCK_METHOD,
      inferMethodOptions: TRANSPARENT_INFER_METHOD,
      widgets: sageMakerModelWidgets(this),
    };
  }

  /** Permits `grantee` to call InvokeEndpoint on this endpoint, and nothing else. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [this.endpointArn] });
  }

  /** A metric of the endpoint's variant in AWS/SageMaker. @default - average over 5 minutes */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap: { EndpointName: this.endpointName, VariantName: SAGEMAKER_VARIANT_NAME },
      ...props,
    });
  }

  /** Time the model took to answer, in microseconds. @default - average over 5 minutes */
  metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ModelLatency', props);
  }

  /** Time SageMaker added to the model's, in microseconds. @default - average over 5 minutes */
  metricOverheadLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('OverheadLatency', props);
  }

  /** Requests answered. @default - sum over 5 minutes */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocations', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Requests the model answered with 4xx. @default - sum over 5 minutes */
  metricInvocation4XXErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocation4XXErrors', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Requests answered with 5xx. @default - sum over 5 minutes */
  metricInvocation5XXErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocation5XXErrors', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Requests per instance, what auto scaling tracks. @default - sum over 5 minutes */
  metricInvocationsPerInstance(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('InvocationsPerInstance', { statistic: cloudwatch.Stats.SUM, ...props });
  }
}
