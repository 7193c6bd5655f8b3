/**
 * The widgets of a ModelApi's dashboard: the API's own, and each backend's, which the backend returns
 * when it binds. Latency graphs carry the rollback alarm's threshold, so a deployment's canary can be
 * read against what would roll it back.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { EcsGpuModel } from '../ecs-gpu-model';
import type { LambdaModel } from '../lambda-model';
import type { ModelPackage } from '../model-package';
import type { SageMakerModel } from '../sagemaker-model';

const MINUTE = Duration.minutes(1);

/** Which bytes the version is: the tarball for a registry package, else the model file. */
function digest(pkg: ModelPackage): string {
  return pkg.tarballSha256 !== undefined
    ? `tarball sha256 \`${pkg.tarballSha256.slice(0, 16)}…\``
    : `model sha256 \`${(pkg.modelSha256 ?? '').slice(0, 16)}…\``;
}

function heading(pkg: ModelPackage, backend: string | undefined, details: string): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({
    markdown: `### ${pkg.name} ${pkg.version}${backend === undefined ? '' : ` (${backend})`}\n${digest(pkg)}, ${details}`,
    width: 24,
    height: 2,
  });
}

export function apiWidgets(api: apigw.RestApi): cloudwatch.IWidget[] {
  return [
    new cloudwatch.GraphWidget({
      title: 'API latency (ms)',
      left: [api.metricLatency({ statistic: 'p50', label: 'p50' }), api.metricLatency({ statistic: 'p99', label: 'p99' })],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'API requests and errors',
      left: [api.metricCount({ label: 'requests' })],
      right: [api.metricClientError({ label: '4xx (incl. 429 throttles)' }), api.metricServerError({ label: '5xx' })],
      width: 16,
    }),
  ];
}

export function lambdaModelWidgets(model: LambdaModel): cloudwatch.IWidget[] {
  const name = model.modelName;
  const fn = model.lambdaFunction.functionName;
  return [
    heading(model.modelPackage, undefined, `${model.memorySize} MiB, timeout ${model.timeout.toSeconds()} s`),
    new cloudwatch.GraphWidget({
      title: `${name}: latency (ms)`,
      left: [
        model.metricLatency({ statistic: 'p50', label: 'p50', period: MINUTE }),
        model.metricLatency({ statistic: 'p99', label: 'p99', period: MINUTE }),
      ],
      leftAnnotations: [model.latencyAlarm.toAnnotation()],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${name}: errors and throttles`,
      left: [model.metricErrors({ label: 'errors', period: MINUTE }), model.metricThrottles({ label: 'throttles', period: MINUTE })],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${name}: invocations by version serving`,
      left: [
        new cloudwatch.SearchExpression({
          expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="Invocations" FunctionName="${fn}"', 'Sum', 60)`,
          label: 'version',
          period: MINUTE,
        }),
      ],
      width: 12,
    }),
  ];
}

export function sageMakerModelWidgets(model: SageMakerModel): cloudwatch.IWidget[] {
  const name = model.modelName;
  return [
    heading(model.modelPackage, 'SageMaker', `${model.instanceType}, endpoint \`${model.endpointName}\``),
    new cloudwatch.GraphWidget({
      title: `${name}: model latency (µs)`,
      left: [
        model.metricModelLatency({ statistic: 'p50', label: 'p50', period: MINUTE }),
        model.metricModelLatency({ statistic: 'p99', label: 'p99', period: MINUTE }),
      ],
      leftAnnotations: [model.latencyAlarm.toAnnotation()],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: `${name}: invocations and errors`,
      left: [model.metricInvocations({ label: 'invocations', period: MINUTE })],
      right: [
        model.metricInvocation4XXErrors({ label: '4xx', period: MINUTE }),
        model.metricInvocation5XXErrors({ label: '5xx', period: MINUTE }),
      ],
      width: 16,
    }),
  ];
}

export function ecsModelWidgets(model: EcsGpuModel): cloudwatch.IWidget[] {
  const name = model.modelName;
  return [
    heading(model.modelPackage, 'ECS', `${model.instanceType.toString()}, service \`${model.service.serviceName}\``),
    new cloudwatch.GraphWidget({
      title: `${name}: Triton targets`,
      left: [
        model.metricHealthyTargets({ statistic: cloudwatch.Stats.MINIMUM, label: 'healthy', period: MINUTE }),
        model.metricUnhealthyTargets({ statistic: cloudwatch.Stats.MAXIMUM, label: 'unhealthy', period: MINUTE }),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: `${name}: task CPU (%)`,
      left: [
        model.metricCpuUtilization({ label: 'average', period: MINUTE }),
        model.metricCpuUtilization({ statistic: cloudwatch.Stats.MAXIMUM, label: 'maximum', period: MINUTE }),
      ],
      width: 12,
    }),
  ];
}
