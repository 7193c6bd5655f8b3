/**
 * One regional REST API for a set of models: the Open Inference Protocol v2 routes of each model added,
 * the health routes, authentication, stage-wide and per-model throttling, request validation, access
 * logs and a dashboard. Each model's backend binds itself (model-backend.ts): this file knows no backend.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachCustomSynthesis, CfnOutput, Duration, Lazy, Names, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DEFAULT_STAGE_THROTTLE } from '../stage-throttle';
import { ApiAuth, ApiAuthKind, type AuthBinding } from './api-auth';
import type { OpenApiDocument } from '../openapi/document';
import type { IModelBackend, ModelIntegrations } from './model-backend';
import type { ModelPackage } from './model-package';
import { ACCESS_LOG_FORMAT, inferValidation } from './private/api-stage';
import { apiWidgets } from './private/dashboard';
import { addGatewayResponses } from './private/gateway-responses';
import { logRetention as profileRetention, profileLogGroup, resolveProfile } from './private/profile';
import { acknowledge } from './private/nag';
import { apiDocument } from './private/openapi-document';
import { addServerRoutes, vtlText } from './private/protocol-templates';
import { checkThrottle, MethodThrottles } from './private/throttle';

export { modelMetadataJson, modelReadyJson } from './private/protocol-templates';

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
   * @default - DEFAULT_STAGE_THROTTLE: 100 requests per second, burst 200
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
   * The hardened profile (see Hardening): X-Ray on the stage, the access logs encrypted and kept a year at
   * least, and a JWT authorizer in the profile's VPC.
   * @default false
   */
  readonly hardened?: boolean;
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
  /**
   * Also serve the API's OpenAPI document at `GET /openapi.json`, behind the API's auth like every
   * route, and output its URL as `OpenApiUrl`. Served without the golden-sample examples, which would
   * pass API Gateway's 300 KB mapping template limit; the file in cdk.out has them. The document is
   * written into the cloud assembly (see {@link ModelApi.openApiFileName}) either way.
   * @default false
   */
  readonly serveOpenApi?: boolean;
}

/** API Gateway's limit on one mapping template, which a served document is written into. */
const MAX_TEMPLATE_BYTES = 300 * 1024;

/** Options of {@link ModelApi.addModel}. */
export interface AddModelOptions {
  /**
   * Throttling of this model's routes, for all callers together, instead of the stage's default.
   * @default - the stage's default throttle
   */
  readonly throttle?: apigw.ThrottleSettings;
}

/** What ModelApi needs to know of a model it serves: its routes' name. */
export interface ServedModel {
  /** The model's name: the `{name}` of its routes. */
  readonly modelName: string;
  /** The package version served. */
  readonly modelVersion: string;
}

/**
 * A regional REST API serving models added with {@link addModel}, each at
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
  /** The OpenAPI document's file in the cloud assembly (cdk.out), written at synth: `<stack>.<id>.openapi.json`. */
  readonly openApiFileName: string;

  private readonly binding: AuthBinding;
  private readonly modelsResource: apigw.Resource;
  private readonly inferOptions: apigw.MethodOptions;
  private readonly models = new Map<string, ServedModel>();
  private readonly packages: ModelPackage[] = [];
  private readonly stageName: string;
  private readonly servesDocument: boolean;
  private readonly methodThrottles: MethodThrottles;

  constructor(scope: Construct, id: string, props: ModelApiProps = {}) {
    super(scope, id);
    this.auth = props.auth ?? ApiAuth.apiKey();
    this.throttle = checkThrottle('ModelApi', props.throttle ?? DEFAULT_STAGE_THROTTLE);
    const cloudWatchRole = props.cloudWatchRole ?? true;
    this.stageName = props.stageName ?? 'prod';
    this.servesDocument = props.serveOpenApi ?? false;

    const profile = resolveProfile(this, { hardened: props.hardened });
    this.accessLogGroup = profileLogGroup(
      this,
      'AccessLogs',
      profile,
      profileRetention(profile, props.accessLogRetention, 'ModelApi accessLogRetention'),
    );
    this.restApi = new apigw.RestApi(this, 'Resource', {
      restApiName: props.restApiName ?? Names.uniqueResourceName(this, { maxLength: 128 }),
      description: 'Open Inference Protocol v2 models, served by modelship',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      cloudWatchRole,
      defaultCorsPreflightOptions: props.cors,
      deployOptions: {
        stageName: this.stageName,
        throttlingRateLimit: this.throttle.rateLimit,
        throttlingBurstLimit: this.throttle.burstLimit,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request and response bodies (tensors) never go to the execution logs.
        dataTraceEnabled: false,
        metricsEnabled: false,
        tracingEnabled: props.tracing ?? profile.hardening !== undefined,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: ACCESS_LOG_FORMAT,
      },
    });
    const stage = this.restApi.deploymentStage;
    this.methodThrottles = new MethodThrottles(stage.node.defaultChild as apigw.CfnStage);

    this.binding = this.auth._bind(this, this.restApi, profile);
    this.usagePlans = this.binding.usagePlans;
    this.apiKeys = this.binding.apiKeys;
    acknowledge(this.restApi.root, this.binding.acknowledgements);

    this.inferOptions = inferValidation(this.restApi);
    addGatewayResponses(this.restApi, props.cors);

    const v2 = this.restApi.root.addResource('v2');
    addServerRoutes(v2, this.binding.methodOptions);
    this.modelsResource = v2.addResource('models');

    if (props.webAclArn !== undefined) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: stage.stageArn, webAclArn: props.webAclArn });
    } else {
      acknowledge(stage, [
        {
          id: 'AwsSolutions-APIG3',
          reason:
            "No web ACL unless webAclArn is given: every route needs auth, and the stage and usage plans throttle; WAF pricing is the owner's choice",
        },
      ]);
    }
    if (cloudWatchRole) {
      acknowledge(this.restApi, [
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason:
            "API Gateway's account-wide logging role needs exactly this AWS-managed policy, which access and execution logging require",
        },
      ]);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(...apiWidgets(this.restApi));

    this.openApiFileName = `${Stack.of(this).artifactId}.${Names.uniqueId(this)}.openapi.json`;
    // At synth, once every model is added: the same document `modelship serve` answers, for this API.
    attachCustomSynthesis(this, {
      onSynthesize: (session) =>
        writeFileSync(join(session.outdir, this.openApiFileName), `${JSON.stringify(this.openApiDocument(), null, 2)}\n`),
    });
    if (this.servesDocument) this.serveOpenApi();
  }

  /**
   * The API's OpenAPI 3.1 document: every model added (a registry package given no manifest is left
   * out), its auth mode's security scheme, and the stage URL with the API id as a variable.
   */
  openApiDocument(options: { readonly examples?: boolean } = {}): OpenApiDocument {
    return apiDocument({
      packages: this.packages,
      auth: this.auth,
      stageName: this.stageName,
      region: Stack.of(this).region,
      examples: options.examples ?? true,
      documentRoute: this.servesDocument,
    });
  }

  /** GET /openapi.json, answered by API Gateway from the document built at synth, and its URL as an output. */
  private serveOpenApi(): void {
    const body = Lazy.string({ produce: () => vtlText(JSON.stringify(this.openApiDocument({ examples: false }))) });
    this.restApi.root.addResource('openapi.json').addMethod(
      'GET',
      new apigw.MockIntegration({
        requestTemplates: { 'application/json': '{"statusCode": 200}' },
        integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
      }),
      { ...this.binding.methodOptions, methodResponses: [{ statusCode: '200' }] },
    );
    new CfnOutput(this, 'OpenApiUrl', {
      value: `${this.url}openapi.json`,
      description: "The API's OpenAPI 3.1 document (it needs the API's auth)",
    });
    this.node.addValidation({
      validate: () => {
        const bytes = Buffer.byteLength(vtlText(JSON.stringify(this.openApiDocument({ examples: false }))));
        return bytes > MAX_TEMPLATE_BYTES
          ? [
              `the OpenAPI document is ${bytes} bytes as a mapping template, over API Gateway's ${MAX_TEMPLATE_BYTES}; serve it elsewhere (serveOpenApi: false) and use ${this.openApiFileName}`,
            ]
          : [];
      },
    });
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
   * `/ready` (GET) and `/infer` (POST, with a body validated against the v2 request schema). The
   * backend (LambdaModel, SageMakerModel, EcsGpuModel) binds itself: it gives the integrations, their
   * method options and its dashboard widgets.
   * @throws Error when a model of that name is already served
   */
  addModel(backend: IModelBackend, options: AddModelOptions = {}): void {
    const name = backend.modelName;
    if (this.models.has(name)) throw new Error(`ModelApi already serves a model named "${name}"; each model is served once`);
    const throttle = options.throttle === undefined ? undefined : checkThrottle(`model "${name}"`, options.throttle);
    this.models.set(name, backend);
    this.packages.push(backend.modelPackage);
    const bound = backend.bind({ api: this, scope: new Construct(this, name) });
    const read = { ...this.binding.methodOptions, ...bound.readMethodOptions };
    const infer = { ...this.binding.methodOptions, ...bound.inferMethodOptions, ...this.inferOptions };
    const base = this.modelsResource.addResource(name);
    for (const resource of [base, base.addResource('versions').addResource('{version}')]) {
      for (const method of this.addRoutes(resource, bound.integrations, read, infer)) {
        if (throttle !== undefined) this.methodThrottles.add(method, throttle);
      }
    }
    this.dashboard.addWidgets(...bound.widgets);
  }

  /**
   * Permits `grantee` to call the API with IAM SigV4: every route, or only the health routes and
   * `model`'s routes, whatever its backend.
   * @throws Error unless the API uses ApiAuth.iam()
   */
  grantInvoke(grantee: iam.IGrantable, model?: ServedModel): iam.Grant {
    if (this.auth.kind !== ApiAuthKind.IAM) {
      throw new Error(`grantInvoke needs ApiAuth.iam(); this API authenticates with ${this.auth.kind}`);
    }
    const stage = this.restApi.deploymentStage.stageName;
    const paths =
      model === undefined ? ['/*'] : ['/v2', '/v2/health/*', `/v2/models/${model.modelName}`, `/v2/models/${model.modelName}/*`];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: paths.map((p) => this.restApi.arnForExecuteApi('*', p, stage)),
    });
  }

  /** The three routes under one model resource, unversioned or versioned. */
  private addRoutes(
    resource: apigw.Resource,
    integrations: ModelIntegrations,
    read: apigw.MethodOptions,
    infer: apigw.MethodOptions,
  ): apigw.Method[] {
    return [
      resource.addMethod('GET', integrations.metadata, read),
      resource.addResource('ready').addMethod('GET', integrations.ready, read),
      resource.addResource('infer').addMethod('POST', integrations.infer, infer),
    ];
  }
}
