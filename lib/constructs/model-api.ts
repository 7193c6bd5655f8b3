/**
 * One regional REST API for a set of models: the Open Inference Protocol v2 routes of each model added,
 * the health routes, authentication, stage-wide and per-model throttling, request validation, access
 * logs and a dashboard.
 */
import { Annotations, Duration, Lazy, Names } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { liveBody, modelMetadataBody, modelReadyBody, readyBody, serverMetadataBody } from '../protocol/responses';
import { ApiAuth, ApiAuthKind, type AuthBinding } from './api-auth';
import type { LambdaModel } from './lambda-model';
import type { ModelPackage } from './model-package';
import type { SageMakerModel } from './sagemaker-model';
import type { EcsGpuModel } from './ecs-gpu-model';
import { acknowledge } from './private/nag';
import { API_GATEWAY_TIMEOUT_SECONDS } from './private/sizing';
import { checkInteger, checkPositive } from './private/validate';

/** Content types API Gateway passes to Lambda base64-encoded: the binary tensor extension's. */
export const BINARY_MEDIA_TYPES: readonly string[] = ['application/octet-stream', 'application/vnd.sagemaker-triton.binary+json'];

/** Properties of a {@link ModelApi}. */
export interface ModelApiProps {
  /**
   * The REST API's name.
   * @default - a name unique in the stack, derived from the construct path
   */
  readonly restApiName?: string;
  /**
   * How callers authenticate.
   * @default ApiAuth.apiKey()
   */
  readonly auth?: ApiAuth;
  /**
   * The stage, the first segment of every URL path.
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * The stage's default throttling, for all callers together; each model's routes may override it.
   * @default - 100 requests per second, burst 200
   */
  readonly throttle?: apigw.ThrottleSettings;
  /**
   * CORS for browser callers.
   * @default - no CORS: browsers on other origins cannot call the API
   */
  readonly cors?: apigw.CorsOptions;
  /**
   * How long access logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * X-Ray tracing on the stage.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Whether to set API Gateway's account-wide CloudWatch Logs role, which access and execution logging
   * need. Pass false when the account already has one.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /**
   * ARN of a WAFv2 web ACL (REGIONAL scope) to put in front of the stage.
   * @default - no web ACL
   */
  readonly webAclArn?: string;
}

/** Options of {@link ModelApi.addModel}. */
export interface AddModelOptions {
  /**
   * Throttling of this model's routes, for all callers together, instead of the stage's default.
   * @default - the stage's default throttle
   */
  readonly throttle?: apigw.ThrottleSettings;
}

const DEFAULT_THROTTLE = { rateLimit: 100, burstLimit: 200 };

/** Errors as the protocol writes them: {"error": "..."}; messageString is already a JSON string. */
const ERROR_TEMPLATE = { 'application/json': '{"error":$context.error.messageString}' };

/**
 * Every field an operator needs and none that is secret: the API key's id, never its value, and the
 * authorizer's principal id, never a token.
 */
const ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integration.latency',
  integrationStatus: '$context.integration.status',
  apiKeyId: '$context.identity.apiKeyId',
  principalId: '$context.authorizer.principalId',
  iamUser: '$context.identity.userArn',
  error: '$context.error.message',
}));

/** The JSON schema API Gateway checks an infer body against: an object with a non-empty inputs array. */
const INFER_REQUEST_SCHEMA: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'InferRequest',
  type: apigw.JsonSchemaType.OBJECT,
  required: ['inputs'],
  properties: {
    id: { type: apigw.JsonSchemaType.STRING },
    parameters: { type: apigw.JsonSchemaType.OBJECT },
    inputs: {
      type: apigw.JsonSchemaType.ARRAY,
      minItems: 1,
      items: { type: apigw.JsonSchemaType.OBJECT, required: ['name', 'datatype', 'shape'] },
    },
    outputs: { type: apigw.JsonSchemaType.ARRAY },
  },
};

/** What ModelApi needs of any model it serves. */
export interface ServedModel {
  /** The model's name: the `{name}` of its routes. */
  readonly modelName: string;
  /** The package version served. */
  readonly modelVersion: string;
}

/**
 * The infer integration of a GPU model: no request template and no content handling, so API Gateway
 * forwards the method request's body byte for byte (v2 JSON as text, the binary extension as binary),
 * with its Content-Type, and returns the model's answer the same way.
 */
const TRANSPARENT_INFER: apigw.IntegrationOptions = {
  passthroughBehavior: apigw.PassthroughBehavior.WHEN_NO_TEMPLATES,
  requestParameters: {
    'integration.request.header.Content-Type': 'method.request.header.Content-Type',
    'integration.request.header.Accept': 'method.request.header.Accept',
  },
  integrationResponses: [
    { statusCode: '200', responseParameters: { 'method.response.header.Content-Type': 'integration.response.header.Content-Type' } },
    // SageMaker answers 424 with Triton's own {"error": ...} in OriginalMessage, or 400 with its message.
    {
      statusCode: '400',
      selectionPattern: '4\\d{2}',
      responseTemplates: {
        'application/json': [
          "#set($original = $input.path('$.OriginalMessage'))",
          "#if(\"$!original\" != \"\" && $original.startsWith('{'))$original#else",
          "#set($m = $input.path('$.message'))#if(\"$!m\" == \"\")#set($m = $input.path('$.Message'))#end",
          "{\"error\":\"$util.escapeJavaScript($m).replaceAll(\"\\\\'\",\"'\")\"}#end",
        ].join('\n'),
      },
    },
    { statusCode: '503', selectionPattern: '5\\d{2}', responseTemplates: { 'application/json': '{"error":"the model endpoint is unavailable; try again later"}' } },
  ],
};

/** Method options of a GPU model's infer route: the headers passed on and the answers it can give. */
const TRANSPARENT_INFER_METHOD: apigw.MethodOptions = {
  requestParameters: { 'method.request.header.Content-Type': false, 'method.request.header.Accept': false },
  methodResponses: [
    { statusCode: '200', responseParameters: { 'method.response.header.Content-Type': true } },
    { statusCode: '400' },
    { statusCode: '503' },
  ],
};

const MANIFEST_MOCK_METHOD: apigw.MethodOptions = { methodResponses: [{ statusCode: '200' }, { statusCode: '404' }] };

/** The v2 model metadata the local server's router answers for a package, as JSON. */
export function modelMetadataJson(pkg: ModelPackage): string {
  return modelMetadataBody(pkg.manifest, [pkg.manifest.version]);
}

/** The v2 model readiness the local server's router answers for a package, as JSON. */
export function modelReadyJson(pkg: ModelPackage): string {
  return modelReadyBody(pkg.name, pkg.version);
}

/**
 * Mock integrations answering a package's metadata and readiness from its manifest. A versioned path
 * naming another version gets the router's 404.
 */
function manifestMocks(pkg: ModelPackage): { metadata: apigw.MockIntegration; ready: apigw.MockIntegration } {
  const request = {
    'application/json': [
      "#set($v = $input.params().path.get('version'))",
      `#if("$!v" == "" || "$v" == "${pkg.version}"){"statusCode": 200}#else{"statusCode": 404}#end`,
    ].join('\n'),
  };
  const notFound = {
    statusCode: '404',
    selectionPattern: '404',
    responseTemplates: {
      'application/json': `{"error":"model '${pkg.name}' has no version '$util.escapeJavaScript($input.params().path.get('version')).replaceAll("\\\\'","'")'; it has: ${pkg.version}"}`,
    },
  };
  const mock = (body: string) => new apigw.MockIntegration({
    passthroughBehavior: apigw.PassthroughBehavior.NEVER,
    requestTemplates: request,
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }, notFound],
  });
  return { metadata: mock(modelMetadataJson(pkg)), ready: mock(modelReadyJson(pkg)) };
}

/** A stage method setting's resource path: every slash of the path is written ~1, after a leading '/'. */
function methodSettingPath(path: string): string {
  return `/${path.replace(/\//g, '~1')}`;
}

function checkThrottle(what: string, throttle: apigw.ThrottleSettings): Required<apigw.ThrottleSettings> {
  if (throttle.rateLimit === undefined || throttle.burstLimit === undefined) {
    throw new RangeError(`${what} needs both rateLimit and burstLimit`);
  }
  checkPositive(`${what}.rateLimit`, throttle.rateLimit);
  checkInteger(`${what}.burstLimit`, throttle.burstLimit, 1, 5000);
  return { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit };
}

/**
 * A regional REST API serving models added with {@link addModel} (Lambda), {@link addSageMakerModel}
 * or {@link addEcsModel}, each at
 * `/v2/models/<name>[/versions/{version}][/ready|/infer]`, plus `/v2`, `/v2/health/live` and
 * `/v2/health/ready`. Every route requires the configured auth. The URL is the stack output `Endpoint`.
 */
export class ModelApi extends Construct {
  /** The REST API. */
  readonly restApi: apigw.RestApi;
  /** How callers authenticate. */
  readonly auth: ApiAuth;
  /** Usage plans (API key auth only). */
  readonly usagePlans: readonly apigw.UsagePlan[];
  /** The API keys created (API key auth only); their values stay in API Gateway. */
  readonly apiKeys: readonly apigw.IApiKey[];
  /** The access log group. */
  readonly accessLogGroup: logs.LogGroup;
  /** The API's dashboard: latency, errors and throttles, and each model's serving version. */
  readonly dashboard: cloudwatch.Dashboard;
  /** The stage's default throttle. */
  readonly throttle: Required<apigw.ThrottleSettings>;

  private readonly binding: AuthBinding;
  private readonly modelsResource: apigw.Resource;
  private readonly bodyValidator: apigw.RequestValidator;
  private readonly inferModel: apigw.Model;
  private readonly models = new Map<string, ServedModel>();
  private readonly modelMethodSettings: apigw.CfnStage.MethodSettingProperty[] = [];

  constructor(scope: Construct, id: string, props: ModelApiProps = {}) {
    super(scope, id);
    this.auth = props.auth ?? ApiAuth.apiKey();
    this.throttle = checkThrottle('throttle', props.throttle ?? DEFAULT_THROTTLE);
    const cloudWatchRole = props.cloudWatchRole ?? true;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH });
    this.restApi = new apigw.RestApi(this, 'Resource', {
      restApiName: props.restApiName ?? Names.uniqueResourceName(this, { maxLength: 128 }),
      description: 'Open Inference Protocol v2 models, served by modelship',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      cloudWatchRole,
      defaultCorsPreflightOptions: props.cors,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        throttlingRateLimit: this.throttle.rateLimit,
        throttlingBurstLimit: this.throttle.burstLimit,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request and response bodies (tensors) never go to the execution logs.
        dataTraceEnabled: false,
        metricsEnabled: false,
        tracingEnabled: props.tracing ?? false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: ACCESS_LOG_FORMAT,
      },
    });
    const stage = this.restApi.deploymentStage;
    const cfnStage = stage.node.defaultChild as apigw.CfnStage;
    const stageSettings = cfnStage.methodSettings as apigw.CfnStage.MethodSettingProperty[];
    cfnStage.methodSettings = Lazy.any({ produce: () => [...stageSettings, ...this.modelMethodSettings] });

    this.binding = this.auth._bind(this, this.restApi);
    this.usagePlans = this.binding.usagePlans;
    this.apiKeys = this.binding.apiKeys;
    acknowledge(this.restApi.root, this.binding.acknowledgements);

    // Parameters too: no method declares a required one today, and any it ever declares gets checked.
    this.bodyValidator = this.restApi.addRequestValidator('RequestValidator', {
      requestValidatorName: 'infer-request',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.inferModel = this.restApi.addModel('InferRequest', {
      contentType: 'application/json',
      modelName: 'InferRequest',
      description: 'Open Inference Protocol v2 infer request',
      schema: INFER_REQUEST_SCHEMA,
    });
    this.addGatewayResponses(props.cors);

    const v2 = this.restApi.root.addResource('v2');
    // API Gateway refuses an integration response whose status has no method response.
    const mockOptions = { ...this.methodOptions(), methodResponses: [{ statusCode: '200' }] };
    v2.addMethod('GET', this.mock(serverMetadataBody()), mockOptions);
    const health = v2.addResource('health');
    health.addResource('live').addMethod('GET', this.mock(liveBody()), mockOptions);
    // Each model's function loads its model on start; the API itself is ready once deployed.
    health.addResource('ready').addMethod('GET', this.mock(readyBody()), mockOptions);
    this.modelsResource = v2.addResource('models');

    if (props.webAclArn !== undefined) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: stage.stageArn, webAclArn: props.webAclArn });
    } else {
      acknowledge(stage, [{
        id: 'AwsSolutions-APIG3',
        reason: 'No web ACL unless webAclArn is given: every route needs auth, and the stage and usage plans throttle; WAF pricing is the owner\'s choice',
      }]);
    }
    if (cloudWatchRole) {
      acknowledge(this.restApi, [{
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'API Gateway\'s account-wide logging role needs exactly this AWS-managed policy, which access and execution logging require',
      }]);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [this.restApi.metricLatency({ statistic: 'p50', label: 'p50' }), this.restApi.metricLatency({ statistic: 'p99', label: 'p99' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [this.restApi.metricCount({ label: 'requests' })],
        right: [this.restApi.metricClientError({ label: '4xx (incl. 429 throttles)' }), this.restApi.metricServerError({ label: '5xx' })],
        width: 16,
      }),
    );
  }

  /** The stage's URL: `https://<id>.execute-api.<region>.amazonaws.com/<stage>/`. */
  get url(): string {
    return this.restApi.url;
  }

  /** The names of the models served, in the order added. */
  get modelNames(): string[] {
    return [...this.models.keys()];
  }

  /**
   * Serves a model at `/v2/models/<name>` and `/v2/models/<name>/versions/{version}`: metadata (GET),
   * `/ready` (GET) and `/infer` (POST, with a body validated against the v2 request schema).
   * @throws Error when a model of that name is already served
   */
  addModel(model: LambdaModel, options: AddModelOptions = {}): void {
    const throttle = this.register(model, options);
    const name = model.modelName;
    if (!model.timeout.isUnresolved() && model.timeout.toSeconds() > API_GATEWAY_TIMEOUT_SECONDS) {
      Annotations.of(this).addWarningV2('modelship:timeout-over-api-limit',
        `model "${name}" has a ${model.timeout.toSeconds()} s timeout, but API Gateway gives up after ${API_GATEWAY_TIMEOUT_SECONDS} s`);
    }
    const integration = new apigw.LambdaIntegration(model.alias, { proxy: true, allowTestInvoke: false });
    this.addRoutes(name, { metadata: integration, ready: integration, infer: integration }, throttle);
    this.addModelWidgets(model);
  }

  /**
   * Serves a SageMaker model at the same routes as {@link addModel}, under the same auth and usage
   * plans. `/infer` is an AWS integration to SageMaker's InvokeEndpoint that forwards the request body
   * unchanged (v2 JSON, or the binary extension with its SageMaker content type) and returns Triton's
   * answer unchanged; metadata and `/ready` are answered by API Gateway from the package's manifest,
   * exactly as the local server answers them.
   * @throws Error when a model of that name is already served
   */
  addSageMakerModel(model: SageMakerModel, options: AddModelOptions = {}): void {
    const throttle = this.register(model, options);
    const name = model.modelName;
    const scope = new Construct(this, name);
    const role = new iam.Role(scope, 'InvokeRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: `API Gateway: InvokeEndpoint on ${model.modelName}'s endpoint, nothing else`,
    });
    model.grantInvoke(role);
    const infer = new apigw.AwsIntegration({
      service: 'runtime.sagemaker',
      path: `endpoints/${model.endpointName}/invocations`,
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: role,
        ...TRANSPARENT_INFER,
      },
    });
    this.addRoutes(name, { ...manifestMocks(model.modelPackage), infer }, throttle, { get: MANIFEST_MOCK_METHOD, infer: TRANSPARENT_INFER_METHOD });
    this.addSageMakerWidgets(model);
  }

  /**
   * Permits `grantee` to call the API with IAM SigV4: every route, or only the health routes and
   * `model`'s routes.
   * @throws Error unless the API uses ApiAuth.iam()
   */
  grantInvoke(grantee: iam.IGrantable, model?: ServedModel): iam.Grant {
    if (this.auth.kind !== ApiAuthKind.IAM) {
      throw new Error(`grantInvoke needs ApiAuth.iam(); this API authenticates with ${this.auth.kind}`);
    }
    const stage = this.restApi.deploymentStage.stageName;
    const paths = model === undefined
      ? ['/*']
      : ['/v2', '/v2/health/*', `/v2/models/${model.modelName}`, `/v2/models/${model.modelName}/*`];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: paths.map((p) => this.restApi.arnForExecuteApi('*', p, stage)),
    });
  }

  /**
   * Serves an ECS model at the same routes as {@link addModel}, under the same auth and usage plans.
   * `/infer` is an HTTP proxy through the model's VPC link to Triton's own `/v2/models/<name>/infer`
   * on the internal load balancer: body, headers and status pass unchanged. Metadata and `/ready` are
   * answered by API Gateway from the package's manifest, exactly as the local server answers them.
   * @throws Error when a model of that name is already served
   */
  addEcsModel(model: EcsGpuModel, options: AddModelOptions = {}): void {
    const throttle = this.register(model, options);
    const name = model.modelName;
    const infer = new apigw.Integration({
      type: apigw.IntegrationType.HTTP_PROXY,
      integrationHttpMethod: 'POST',
      uri: `http://${model.loadBalancer.loadBalancerDnsName}/v2/models/${name}/infer`,
      options: { connectionType: apigw.ConnectionType.VPC_LINK, vpcLink: model.vpcLink, timeout: Duration.seconds(API_GATEWAY_TIMEOUT_SECONDS) },
    });
    this.addRoutes(name, { ...manifestMocks(model.modelPackage), infer }, throttle, { get: MANIFEST_MOCK_METHOD });
  }

  /** Checks and records a model's name and throttle; every add* method starts here. */
  private register(model: ServedModel, options: AddModelOptions): Required<apigw.ThrottleSettings> | undefined {
    const name = model.modelName;
    if (this.models.has(name)) throw new Error(`ModelApi already serves a model named "${name}"; each model is served once`);
    const throttle = options.throttle === undefined ? undefined : checkThrottle(`throttle of model "${name}"`, options.throttle);
    this.models.set(name, model);
    return throttle;
  }

  /** The routes of one model, unversioned and versioned, with their integrations and throttle. */
  private addRoutes(
    name: string,
    integrations: { readonly metadata: apigw.Integration; readonly ready: apigw.Integration; readonly infer: apigw.Integration },
    throttle: Required<apigw.ThrottleSettings> | undefined,
    extra: { readonly get?: apigw.MethodOptions; readonly infer?: apigw.MethodOptions } = {},
  ): void {
    const base = this.modelsResource.addResource(name);
    const versioned = base.addResource('versions').addResource('{version}');
    for (const resource of [base, versioned]) {
      const methods = [
        resource.addMethod('GET', integrations.metadata, { ...this.methodOptions(), ...extra.get }),
        resource.addResource('ready').addMethod('GET', integrations.ready, { ...this.methodOptions(), ...extra.get }),
        resource.addResource('infer').addMethod('POST', integrations.infer, {
          ...this.methodOptions(),
          ...extra.infer,
          requestValidator: this.bodyValidator,
          requestModels: { 'application/json': this.inferModel },
        }),
      ];
      if (throttle !== undefined) {
        for (const method of methods) {
          this.modelMethodSettings.push({
            resourcePath: methodSettingPath(method.resource.path),
            httpMethod: method.httpMethod,
            throttlingRateLimit: throttle.rateLimit,
            throttlingBurstLimit: throttle.burstLimit,
          });
        }
      }
    }
  }

  private methodOptions(): apigw.MethodOptions {
    return this.binding.methodOptions;
  }

  private mock(body: string): apigw.MockIntegration {
    return new apigw.MockIntegration({
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
    });
  }

  private addGatewayResponses(cors: apigw.CorsOptions | undefined): void {
    const origin = cors?.allowOrigins.length === 1 ? { 'Access-Control-Allow-Origin': `'${cors.allowOrigins[0]}'` } : undefined;
    const responses: Array<[string, apigw.ResponseType, Record<string, string> | undefined]> = [
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX, undefined],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX, undefined],
      // API Gateway's token buckets refill every second; a quota's period is far longer, but a retry soon is harmless.
      ['Throttled', apigw.ResponseType.THROTTLED, { 'Retry-After': "'1'" }],
      ['QuotaExceeded', apigw.ResponseType.QUOTA_EXCEEDED, { 'Retry-After': "'3600'" }],
    ];
    for (const [id, type, headers] of responses) {
      this.restApi.addGatewayResponse(id, {
        type,
        templates: ERROR_TEMPLATE,
        ...(headers || origin ? { responseHeaders: { ...headers, ...origin } } : {}),
      });
    }
  }

  private addSageMakerWidgets(model: SageMakerModel): void {
    const pkg = model.modelPackage;
    const minute = Duration.minutes(1);
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `### ${pkg.name} ${pkg.version} (SageMaker)\nsha256 \`${pkg.sha256.slice(0, 16)}…\`, ${model.instanceType}, endpoint \`${model.endpointName}\``,
        width: 24,
        height: 2,
      }),
      new cloudwatch.GraphWidget({
        title: `${pkg.name}: model latency (µs)`,
        left: [
          model.metricModelLatency({ statistic: 'p50', label: 'p50', period: minute }),
          model.metricModelLatency({ statistic: 'p99', label: 'p99', period: minute }),
        ],
        leftAnnotations: [model.latencyAlarm.toAnnotation()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `${pkg.name}: invocations and errors`,
        left: [model.metricInvocations({ label: 'invocations', period: minute })],
        right: [model.metricInvocation4XXErrors({ label: '4xx', period: minute }), model.metricInvocation5XXErrors({ label: '5xx', period: minute })],
        width: 16,
      }),
    );
  }

  private addModelWidgets(model: LambdaModel): void {
    const pkg = model.modelPackage;
    const fn = model.lambdaFunction.functionName;
    const minute = Duration.minutes(1);
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `### ${pkg.name} ${pkg.version}\nsha256 \`${pkg.sha256.slice(0, 16)}…\`, ${model.memorySize} MiB, timeout ${model.timeout.toSeconds()} s`,
        width: 24,
        height: 2,
      }),
      new cloudwatch.GraphWidget({
        title: `${pkg.name}: latency (ms)`,
        left: [
          model.metricLatency({ statistic: 'p50', label: 'p50', period: minute }),
          model.metricLatency({ statistic: 'p99', label: 'p99', period: minute }),
        ],
        leftAnnotations: [model.latencyAlarm.toAnnotation()],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: `${pkg.name}: errors and throttles`,
        left: [model.metricErrors({ label: 'errors', period: minute }), model.metricThrottles({ label: 'throttles', period: minute })],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: `${pkg.name}: invocations by version serving`,
        left: [new cloudwatch.SearchExpression({
          expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="Invocations" FunctionName="${fn}"', 'Sum', 60)`,
          label: 'version',
          period: minute,
        })],
        width: 12,
      }),
    );
  }
}
