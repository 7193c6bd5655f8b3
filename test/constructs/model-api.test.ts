/**
 * ModelApi and its auth modes: routes, throttling, validation, logging, CORS, binary types, outputs and
 * the dashboard, as fine-grained template assertions. Every stack is built before the first synth.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ApiAuth } from '../../lib/constructs/api-auth';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { BINARY_MEDIA_TYPES, ModelApi } from '../../lib/constructs/model-api';
import type { IModelBackend, ModelBackendBinding, ModelBackendBindOptions } from '../../lib/constructs/model-backend';
import { ModelPackage } from '../../lib/constructs/model-package';
import { LAMBDA_BINARY_MEDIA_TYPES } from '../../lib/protocol/payload-limits';
import { Construct } from 'constructs';
import { makeTinyMlpPackage } from '../helpers/fixtures';
import {
  apiMethods,
  defined,
  findResources,
  type MethodProps,
  type PolicyDocument,
  projectContext,
  testApp,
  type TestApp,
} from './synth-helpers';

interface Built {
  readonly stack: Stack;
  readonly api: ModelApi;
  readonly model: LambdaModel;
  template: Template;
}

let t: TestApp;
let pkg: ModelPackage;
const built: Record<'apiKey' | 'custom' | 'iam' | 'jwt' | 'cognito', Built> = {} as never;
let iamCallers: { all: iam.Role; one: iam.Role };
let ownBackend: { stack: Stack; api: ModelApi; backend: IModelBackend; template: Template };

function build(id: string, props: ConstructorParameters<typeof ModelApi>[2], options: Parameters<ModelApi['addModel']>[1] = {}): Built {
  const stack = t.stack(id);
  const api = new ModelApi(stack, 'Api', props);
  const model = new LambdaModel(stack, 'Model', { modelPackage: pkg });
  api.addModel(model, options);
  return { stack, api, model, template: undefined as never };
}

function logicalIds(template: Template, type: string, props: object = {}): string[] {
  return Object.keys(template.findResources(type, props));
}

function only(ids: string[]): string {
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The resource path of a method, e.g. '/v2/models/tiny-mlp/infer', from the template's resource tree. */
function methodPaths(template: Template): Array<{ path: string; method: MethodProps }> {
  return apiMethods(template).map(({ route, props }) => ({ path: route.slice(route.indexOf(' ') + 1), method: props }));
}

/** A dashboard widget, as far as these tests read it. */
interface Widget {
  readonly properties: {
    readonly title?: string;
    readonly markdown?: string;
    readonly metrics: Array<Array<string | { readonly stat?: string; readonly expression?: string; readonly [key: string]: unknown }>>;
    readonly annotations: { readonly horizontal: ReadonlyArray<{ readonly value: number }> };
  };
}

/** The dashboard's widgets, each Ref in its body written {LogicalId}. */
function dashboardWidgets(template: Template): Widget[] {
  const [dashboard] = Object.values(findResources(template, 'AWS::CloudWatch::Dashboard'));
  const body = dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : `{${(p as { Ref: string }).Ref}}`)).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

const MODEL_ROUTES = [
  'GET /v2/models/tiny-mlp',
  'GET /v2/models/tiny-mlp/ready',
  'POST /v2/models/tiny-mlp/infer',
  'GET /v2/models/tiny-mlp/versions/{version}',
  'GET /v2/models/tiny-mlp/versions/{version}/ready',
  'POST /v2/models/tiny-mlp/versions/{version}/infer',
];
const HEALTH_ROUTES = ['GET /v2', 'GET /v2/health/live', 'GET /v2/health/ready'];

beforeAll(async () => {
  t = testApp();
  pkg = ModelPackage.fromDirectory((await makeTinyMlpPackage()).dir);

  built.apiKey = build('ApiKeyDefault', {});

  const customStackProbe = { imported: undefined as apigw.IApiKey | undefined };
  built.custom = (() => {
    const stack = t.stack('Custom');
    customStackProbe.imported = apigw.ApiKey.fromApiKeyId(stack, 'Existing', 'abcdef1234');
    const api = new ModelApi(stack, 'Api', {
      restApiName: 'digits-api',
      stageName: 'v1',
      throttle: { rateLimit: 50, burstLimit: 100 },
      cors: { allowOrigins: ['https://app.example.com'] },
      accessLogRetention: logs.RetentionDays.ONE_YEAR,
      tracing: true,
      cloudWatchRole: false,
      webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/models/1234',
      auth: ApiAuth.apiKey({
        plans: [
          {
            name: 'free',
            throttle: { rateLimit: 1, burstLimit: 2 },
            quota: { limit: 100, period: apigw.Period.DAY },
            createKeys: ['alice', 'bob'],
          },
          {
            name: 'pro',
            throttle: { rateLimit: 100, burstLimit: 200 },
            quota: { limit: 1_000_000, period: apigw.Period.MONTH },
            createKeys: ['carol'],
            importKeys: [customStackProbe.imported],
          },
        ],
      }),
    });
    const model = new LambdaModel(stack, 'Model', { modelPackage: pkg, timeout: Duration.seconds(40) });
    api.addModel(model, { throttle: { rateLimit: 5, burstLimit: 10 } });
    return { stack, api, model, template: undefined as never };
  })();

  built.iam = build('Iam', { auth: ApiAuth.iam() });
  iamCallers = {
    all: new iam.Role(built.iam.stack, 'AllRoutes', { assumedBy: new iam.AccountRootPrincipal() }),
    one: new iam.Role(built.iam.stack, 'OneModel', { assumedBy: new iam.AccountRootPrincipal() }),
  };
  built.iam.api.grantInvoke(iamCallers.all);
  built.iam.api.grantInvoke(iamCallers.one, built.iam.model);

  built.jwt = build('Jwt', { auth: ApiAuth.jwt({ issuer: 'https://login.example.com/', audience: ['modelship', 'mobile'] }) });

  {
    const stack = t.stack('Cognito');
    const pool = new cognito.UserPool(stack, 'Pool');
    const api = new ModelApi(stack, 'Api', { auth: ApiAuth.cognito({ userPools: [pool], scopes: ['models/infer'] }) });
    const model = new LambdaModel(stack, 'Model', { modelPackage: pkg });
    api.addModel(model);
    built.cognito = { stack, api, model, template: undefined as never };
  }

  {
    // A backend of one's own: ModelApi knows backends only by what they bind.
    const stack = t.stack('OwnBackend');
    const api = new ModelApi(stack, 'Api');
    class EchoBackend extends Construct implements IModelBackend {
      readonly modelPackage = pkg;
      readonly modelName = 'echo';
      readonly modelVersion = pkg.version;
      bind(options: ModelBackendBindOptions): ModelBackendBinding {
        new iam.Role(options.scope, 'Probe', { assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com') });
        const mock = new apigw.MockIntegration({
          requestTemplates: { 'application/json': '{"statusCode": 200}' },
          integrationResponses: [{ statusCode: '200' }],
        });
        return {
          integrations: { metadata: mock, ready: mock, infer: mock },
          readMethodOptions: { methodResponses: [{ statusCode: '200' }] },
          widgets: [new cloudwatch.TextWidget({ markdown: '### echo', width: 24 })],
        };
      }
    }
    ownBackend = { stack, api, backend: new EchoBackend(stack, 'Echo'), template: undefined as never };
    api.addModel(ownBackend.backend, { throttle: { rateLimit: 7, burstLimit: 14 } });
  }

  for (const b of Object.values(built)) b.template = Template.fromStack(b.stack);
  ownBackend.template = Template.fromStack(ownBackend.stack);
});

afterAll(() => t.cleanup());

describe('routes and defaults', () => {
  test("a regional REST API that takes the binary tensor extension's content types", () => {
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: Match.stringLikeRegexp('Api'),
      EndpointConfiguration: { Types: ['REGIONAL'] },
      BinaryMediaTypes: ['application/octet-stream', 'application/vnd.sagemaker-triton.binary+json'],
    });
  });

  test('the binary media types are those the Lambda payload limit counts as base64 (lib/protocol/payload-limits.ts)', () => {
    expect(BINARY_MEDIA_TYPES).toEqual(LAMBDA_BINARY_MEDIA_TYPES);
  });

  test('the v2 routes of each model and the health routes, and nothing else', () => {
    const routes = methodPaths(built.apiKey.template)
      .map((m) => `${m.method.HttpMethod} ${m.path}`)
      .sort();
    expect(routes).toEqual([...HEALTH_ROUTES, ...MODEL_ROUTES].sort());
  });

  test('model routes are Lambda proxy integrations of alias live; health routes answer from API Gateway', () => {
    const alias = only(logicalIds(built.apiKey.template, 'AWS::Lambda::Alias'));
    for (const { path, method } of methodPaths(built.apiKey.template)) {
      if (path.startsWith('/v2/models/')) {
        expect(method.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
        expect(JSON.stringify(method.Integration.Uri)).toContain(alias);
      } else {
        expect(method.Integration).toMatchObject({ Type: 'MOCK' });
      }
    }
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::Method', {
      Integration: {
        Type: 'MOCK',
        IntegrationResponses: [{ StatusCode: '200', ResponseTemplates: { 'application/json': '{"live":true}' } }],
      },
    });
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::Method', {
      Integration: {
        Type: 'MOCK',
        IntegrationResponses: [
          {
            StatusCode: '200',
            ResponseTemplates: {
              'application/json': Match.stringLikeRegexp('"extensions":\\["binary_tensor_data","sagemaker_triton_binary"\\]'),
            },
          },
        ],
      },
    });
  });

  test('addModel(LambdaModel): every model route is the Lambda proxy of alias live, with no method responses of its own; only infer is validated', () => {
    // GIVEN an API  WHEN a LambdaModel is added  THEN its binding gives one proxy integration for all three routes
    const alias = only(logicalIds(built.apiKey.template, 'AWS::Lambda::Alias'));
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: {
        Type: 'AWS_PROXY',
        Uri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: alias }])] }),
        RequestTemplates: Match.absent(),
      },
      MethodResponses: Match.absent(),
      RequestValidatorId: Match.absent(),
      ApiKeyRequired: true,
    });
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: { Type: 'AWS_PROXY', Uri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: alias }])] }) },
      MethodResponses: Match.absent(),
      RequestParameters: Match.absent(),
      RequestValidatorId: Match.anyValue(),
      ApiKeyRequired: true,
    });
    // The Lambda backend grants API Gateway by the function's resource policy: no role under the API.
    expect(logicalIds(built.apiKey.template, 'AWS::IAM::Role').filter((id) => id.startsWith('Apitinymlp'))).toEqual([]);
  });

  test("addModel of a backend of one's own: its integrations, options, scope, widgets and the throttle, and nothing that knows its kind", () => {
    const template = ownBackend.template;
    const routes = methodPaths(template).filter((m) => m.path.startsWith('/v2/models/'));
    expect(routes.map((m) => `${String(m.method.HttpMethod)} ${m.path}`).sort()).toEqual(
      MODEL_ROUTES.map((r) => r.replaceAll('tiny-mlp', 'echo')).sort(),
    );
    for (const { method } of routes) expect(method).toMatchObject({ Integration: { Type: 'MOCK' }, ApiKeyRequired: true });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      MethodResponses: [{ StatusCode: '200' }],
      RequestValidatorId: Match.absent(),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: { Type: 'MOCK' },
      MethodResponses: Match.absent(),
      RequestValidatorId: Match.anyValue(),
    });
    // The scope the API gives is its own, one per model: the probe's logical id says where it sits.
    expect(logicalIds(template, 'AWS::IAM::Role').filter((id) => /^ApiechoProbe[0-9A-F]{8}$/.test(id))).toHaveLength(1);
    expect(JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties)).toContain('### echo');
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    expect((stage.Properties as { MethodSettings: unknown[] }).MethodSettings.slice(1)).toHaveLength(6);
    expect(ownBackend.api.modelNames).toEqual(['echo']);
  });

  test("API Gateway may invoke the alias only, from each model method, not from the console's test-invoke", () => {
    const alias = only(logicalIds(built.apiKey.template, 'AWS::Lambda::Alias'));
    const permissions = findResources(built.apiKey.template, 'AWS::Lambda::Permission');
    expect(Object.keys(permissions)).toHaveLength(6);
    for (const p of Object.values(permissions)) {
      expect(p.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { Ref: alias },
      });
      expect(JSON.stringify(p.Properties.SourceArn)).not.toContain('test-invoke-stage');
    }
  });

  test('infer bodies are validated: a missing body or one without inputs is rejected before Lambda', () => {
    const validator = only(logicalIds(built.apiKey.template, 'AWS::ApiGateway::RequestValidator'));
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const model = only(logicalIds(built.apiKey.template, 'AWS::ApiGateway::Model'));
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: {
        type: 'object',
        required: ['inputs'],
        properties: Match.objectLike({
          inputs: { type: 'array', minItems: 1, items: Match.objectLike({ required: ['name', 'datatype', 'shape'] }) },
        }),
      },
    });
    const posts = methodPaths(built.apiKey.template).filter((m) => m.method.HttpMethod === 'POST');
    expect(posts).toHaveLength(2);
    for (const { method } of posts) {
      expect(method).toMatchObject({ RequestValidatorId: { Ref: validator }, RequestModels: { 'application/json': { Ref: model } } });
    }
    for (const { method } of methodPaths(built.apiKey.template).filter((m) => m.method.HttpMethod === 'GET')) {
      expect(method.RequestValidatorId).toBeUndefined();
    }
  });

  test('the stage: prod, default throttling 100/s burst 200 always set, error-level execution logs, no body logging', () => {
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: false,
      MethodSettings: [
        {
          ResourcePath: '/*',
          HttpMethod: '*',
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: false,
        },
      ],
    });
  });

  test('access logs: JSON with the key id and principal, never a key value, kept a month', () => {
    const stage = Object.values(findResources(built.apiKey.template, 'AWS::ApiGateway::Stage'))[0] as unknown as {
      Properties: { AccessLogSetting: { Format: string; DestinationArn: unknown } };
    };
    const format = JSON.parse(stage.Properties.AccessLogSetting.Format) as unknown;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      apiKeyId: '$context.identity.apiKeyId',
      principalId: '$context.authorizer.principalId',
    });
    expect(stage.Properties.AccessLogSetting.Format).not.toMatch(/\$context\.identity\.apiKey(?!Id)/);
    expect(JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn)).toContain(
      only(
        logicalIds(built.apiKey.template, 'AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 } }).filter((id) =>
          id.startsWith('ApiAccessLogs'),
        ),
      ),
    );
  });

  test('errors keep the protocol\'s shape {"error": ...}, and 429s say when to retry', () => {
    const template = { 'application/json': '{"error":$context.error.messageString}' };
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'DEFAULT_4XX',
      ResponseTemplates: template,
    });
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'DEFAULT_5XX',
      ResponseTemplates: template,
    });
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseTemplates: template,
      ResponseParameters: { 'gatewayresponse.header.Retry-After': "'1'" },
    });
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'QUOTA_EXCEEDED',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': "'3600'" },
    });
  });

  test('CORS is off: no OPTIONS methods, no CORS headers', () => {
    expect(methodPaths(built.apiKey.template).filter((m) => m.method.HttpMethod === 'OPTIONS')).toEqual([]);
    expect(JSON.stringify(built.apiKey.template.toJSON())).not.toContain('Access-Control-Allow-Origin');
  });

  test("the account's API Gateway logging role is set, no web ACL is attached", () => {
    built.apiKey.template.resourceCountIs('AWS::ApiGateway::Account', 1);
    built.apiKey.template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']] },
      ],
    });
    built.apiKey.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  test('the URL is a stack output', () => {
    const api = only(logicalIds(built.apiKey.template, 'AWS::ApiGateway::RestApi'));
    built.apiKey.template.hasOutput('*', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['https://', { Ref: api }, '.execute-api.'])] },
    });
    expect(built.apiKey.stack.resolve(built.apiKey.api.url)).toEqual(
      expect.objectContaining({ 'Fn::Join': expect.any(Array) as unknown }) as unknown,
    );
    expect(built.apiKey.api.modelNames).toEqual(['tiny-mlp']);
  });

  test('one dashboard: API latency p50/p99, errors and throttles, and per model latency, errors and the version serving', () => {
    built.apiKey.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const widgets = dashboardWidgets(built.apiKey.template);
    const fn = `{${only(logicalIds(built.apiKey.template, 'AWS::Lambda::Function').filter((id) => /^Model[0-9A-F]{8}$/.test(id)))}}`;
    const byTitle = (title: string): Widget['properties'] =>
      defined(
        widgets.find((w) => w.properties.title === title),
        title,
      ).properties;
    const stat = (m: Widget['properties']['metrics'][number]): unknown => (m.at(-1) as { stat?: string }).stat;
    expect(widgets.map((w) => w.properties.title ?? w.properties.markdown?.split('\n')[0])).toEqual([
      'API latency (ms)',
      'API requests and errors',
      '### tiny-mlp 1.0.0',
      'tiny-mlp: latency (ms)',
      'tiny-mlp: errors and throttles',
      'tiny-mlp: invocations by version serving',
    ]);
    expect(byTitle('API latency (ms)').metrics.map((m) => [m[1], stat(m)])).toEqual([
      ['Latency', 'p50'],
      ['Latency', 'p99'],
    ]);
    expect(byTitle('API requests and errors').metrics.map((m) => m[1])).toEqual(['Count', '4XXError', '5XXError']);
    expect(byTitle('tiny-mlp: latency (ms)').metrics).toEqual([
      ['AWS/Lambda', 'Duration', 'FunctionName', fn, 'Resource', `${fn}:live`, { label: 'p50', period: 60, stat: 'p50' }],
      ['AWS/Lambda', 'Duration', 'FunctionName', fn, 'Resource', `${fn}:live`, { label: 'p99', period: 60, stat: 'p99' }],
    ]);
    expect(byTitle('tiny-mlp: latency (ms)').annotations.horizontal[0].value).toBe(8800);
    expect(byTitle('tiny-mlp: errors and throttles').metrics.map((m) => m[1])).toEqual(['Errors', 'Throttles']);
    expect((byTitle('tiny-mlp: invocations by version serving').metrics[0][0] as { expression?: string }).expression).toBe(
      `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="Invocations" FunctionName="${fn}"', 'Sum', 60)`,
    );
  });
});

describe('props', () => {
  const custom = () => built.custom;

  test("name, stage, default throttle, tracing, and the per-model throttle on each of the model's routes", () => {
    custom().template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'digits-api' });
    const stage = Object.values(findResources(custom().template, 'AWS::ApiGateway::Stage'))[0].Properties as {
      StageName: string;
      TracingEnabled: boolean;
      MethodSettings: Array<{ HttpMethod: string; ResourcePath: string; ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;
    };
    expect(stage.StageName).toBe('v1');
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings[0]).toMatchObject({
      ResourcePath: '/*',
      HttpMethod: '*',
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
    });
    expect(
      stage.MethodSettings.slice(1)
        .map((s) => `${s.HttpMethod} ${s.ResourcePath} ${s.ThrottlingRateLimit}/${s.ThrottlingBurstLimit}`)
        .sort(),
    ).toEqual([
      'GET /~1v2~1models~1tiny-mlp 5/10',
      'GET /~1v2~1models~1tiny-mlp~1ready 5/10',
      'GET /~1v2~1models~1tiny-mlp~1versions~1{version} 5/10',
      'GET /~1v2~1models~1tiny-mlp~1versions~1{version}~1ready 5/10',
      'POST /~1v2~1models~1tiny-mlp~1infer 5/10',
      'POST /~1v2~1models~1tiny-mlp~1versions~1{version}~1infer 5/10',
    ]);
  });

  test('CORS when asked: preflight methods and the origin on error responses', () => {
    const options = methodPaths(custom().template).filter((m) => m.method.HttpMethod === 'OPTIONS');
    expect(options.length).toBeGreaterThan(0);
    custom().template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'DEFAULT_4XX',
      ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'" },
    });
  });

  test('access log retention, no account logging role, a web ACL', () => {
    expect(
      logicalIds(custom().template, 'AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 } }).filter((id) =>
        id.startsWith('ApiAccessLogs'),
      ),
    ).toHaveLength(1);
    custom().template.resourceCountIs('AWS::ApiGateway::Account', 0);
    custom().template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/models/1234',
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([':apigateway:', '::/restapis/'])] },
    });
  });

  test('a model whose timeout outlasts API Gateway gets a warning', () => {
    Annotations.fromStack(custom().stack).hasWarning(
      '/Custom/Api',
      Match.stringLikeRegexp('model "tiny-mlp" has a 40 s timeout, but API Gateway gives up after 29 s'),
    );
    Annotations.fromStack(built.apiKey.stack).hasNoWarning('*', Match.stringLikeRegexp('gives up after'));
  });
});

describe('auth: API keys (the default)', () => {
  test('every method requires an API key', () => {
    for (const { method } of methodPaths(built.apiKey.template)) {
      expect(method).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
    }
  });

  test('the default plan: 10/s, burst 20, 10,000 a day on this stage, with one generated key', () => {
    const api = only(logicalIds(built.apiKey.template, 'AWS::ApiGateway::RestApi'));
    const stage = only(logicalIds(built.apiKey.template, 'AWS::ApiGateway::Stage'));
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'default',
      Throttle: { RateLimit: 10, BurstLimit: 20 },
      Quota: { Limit: 10000, Period: 'DAY' },
      ApiStages: [{ ApiId: { Ref: api }, Stage: { Ref: stage } }],
    });
    const key = only(logicalIds(built.apiKey.template, 'AWS::ApiGateway::ApiKey'));
    built.apiKey.template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: key },
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: only(logicalIds(built.apiKey.template, 'AWS::ApiGateway::UsagePlan')) },
    });
    built.apiKey.template.hasOutput('*', { Value: { Ref: key }, Description: Match.stringLikeRegexp('get-api-key --include-value') });
    expect(built.apiKey.api.apiKeys).toHaveLength(1);
    expect(built.apiKey.api.usagePlans).toHaveLength(1);
  });

  test('plans of your own: rates, quotas, created keys and an imported one', () => {
    const template = custom();
    template.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'free',
      Throttle: { RateLimit: 1, BurstLimit: 2 },
      Quota: { Limit: 100, Period: 'DAY' },
    });
    template.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'pro',
      Throttle: { RateLimit: 100, BurstLimit: 200 },
      Quota: { Limit: 1000000, Period: 'MONTH' },
    });
    template.template.resourceCountIs('AWS::ApiGateway::ApiKey', 3);
    template.template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 4);
    template.template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyId: 'abcdef1234', KeyType: 'API_KEY' });
    for (const name of ['alice', 'bob', 'carol']) {
      template.template.hasResourceProperties('AWS::ApiGateway::ApiKey', {
        Description: Match.stringLikeRegexp(`key "${name}"`),
        Enabled: true,
      });
    }

    function custom() {
      return built.custom;
    }
  });

  test('key values appear nowhere: no key has a Value, and outputs carry key ids only', () => {
    for (const b of Object.values(built)) {
      const json = b.template.toJSON() as { Outputs?: Record<string, { Value: unknown }> };
      for (const key of Object.values(findResources(b.template, 'AWS::ApiGateway::ApiKey'))) {
        expect(key.Properties.Value).toBeUndefined();
        expect(key.Properties.GenerateDistinctId).toBeUndefined();
      }
      const keyIds = new Set(Object.keys(b.template.findResources('AWS::ApiGateway::ApiKey')));
      for (const output of Object.values(json.Outputs ?? {})) {
        // A key can only be referred to by Ref (its id); no attribute of it is a secret either, but none is output.
        const text = JSON.stringify(output.Value);
        for (const id of keyIds) expect(text.includes(`"Fn::GetAtt":["${id}"`)).toBe(false);
      }
      expect(JSON.stringify(json)).not.toMatch(/"Value":\s*"[A-Za-z0-9]{20,}"/);
    }
  });
});

describe('auth: IAM', () => {
  test('every method requires SigV4 and there are no usage plans or keys', () => {
    for (const { method } of methodPaths(built.iam.template)) {
      expect(method.AuthorizationType).toBe('AWS_IAM');
      expect(method.ApiKeyRequired).toBeUndefined();
    }
    built.iam.template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    built.iam.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
  });

  test('grantInvoke: execute-api:Invoke on the stage, or on the health routes and one model', () => {
    const policyOf = (role: string): PolicyDocument['Statement'] =>
      (
        defined(
          Object.values(findResources(built.iam.template, 'AWS::IAM::Policy')).find((p) =>
            JSON.stringify(p.Properties.Roles).includes(role),
          ),
          `the policy of ${role}`,
        ).Properties.PolicyDocument as PolicyDocument
      ).Statement;
    // The last parts of an ARN the template joins.
    const tail = (arn: unknown, n: number): unknown[] => (arn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].slice(-n);
    const all = policyOf(only(logicalIds(built.iam.template, 'AWS::IAM::Role').filter((id) => id.startsWith('AllRoutes'))));
    expect(all).toHaveLength(1);
    expect(all[0].Action).toBe('execute-api:Invoke');
    const stage = { Ref: only(logicalIds(built.iam.template, 'AWS::ApiGateway::Stage')) };
    expect(tail(all[0].Resource, 3)).toEqual(['/', stage, '/*/*']);
    const one = policyOf(only(logicalIds(built.iam.template, 'AWS::IAM::Role').filter((id) => id.startsWith('OneModel'))));
    expect((one[0].Resource as unknown[]).map((r) => tail(r, 2))).toEqual([
      [stage, '/*/v2'],
      [stage, '/*/v2/health/*'],
      [stage, '/*/v2/models/tiny-mlp'],
      [stage, '/*/v2/models/tiny-mlp/*'],
    ]);
  });

  test('grantInvoke on an API that is not IAM-authenticated is an error', () => {
    expect(() => built.apiKey.api.grantInvoke(new iam.AccountRootPrincipal())).toThrow(
      /grantInvoke needs ApiAuth\.iam\(\); this API authenticates with apiKey/,
    );
  });
});

describe('auth: JWT', () => {
  test('a TOKEN authorizer on the Authorization header, cached 5 minutes, refusing non-JWT values itself', () => {
    const fn = only(
      logicalIds(built.jwt.template, 'AWS::Lambda::Function', {
        Properties: { Environment: { Variables: Match.objectLike({ JWT_ISSUER: Match.anyValue() }) } },
      }),
    );
    built.jwt.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: '^[Bb]earer [-_A-Za-z0-9]+\\.[-_A-Za-z0-9]+\\.[-_A-Za-z0-9]+$',
      AuthorizerResultTtlInSeconds: 300,
      AuthorizerUri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [fn, 'Arn'] }])] }),
    });
    const authorizer = only(logicalIds(built.jwt.template, 'AWS::ApiGateway::Authorizer'));
    for (const { method } of methodPaths(built.jwt.template)) {
      expect(method).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizer } });
    }
    built.jwt.template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    built.jwt.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
  });

  test('the authorizer knows the issuer, the audiences and the JWKS (by default under the issuer)', () => {
    built.jwt.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Environment: {
        Variables: {
          JWT_ISSUER: 'https://login.example.com/',
          JWT_AUDIENCE: '["modelship","mobile"]',
          JWKS_URI: 'https://login.example.com/.well-known/jwks.json',
        },
      },
    });
  });
});

describe('auth: Cognito', () => {
  test("API Gateway's Cognito authorizer for the pool, with the scopes on every method", () => {
    const pool = only(logicalIds(built.cognito.template, 'AWS::Cognito::UserPool'));
    built.cognito.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [pool, 'Arn'] }],
    });
    const authorizer = only(logicalIds(built.cognito.template, 'AWS::ApiGateway::Authorizer'));
    for (const { method } of methodPaths(built.cognito.template)) {
      expect(method).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: authorizer },
        AuthorizationScopes: ['models/infer'],
      });
    }
  });
});

describe('bad configurations are refused with the value at fault', () => {
  const plan = { name: 'p', throttle: { rateLimit: 1, burstLimit: 1 } };
  test.each<[string, () => unknown, RegExp]>([
    ['no plans', () => ApiAuth.apiKey({ plans: [] }), /needs at least one usage plan/],
    ['a plan twice', () => ApiAuth.apiKey({ plans: [plan, plan] }), /usage plan "p" is defined twice/],
    [
      'a plan name with a space',
      () => ApiAuth.apiKey({ plans: [{ ...plan, name: 'my plan' }] }),
      /usage plan name "my plan" must be 1-64 letters/,
    ],
    [
      'a plan without a burst',
      () => ApiAuth.apiKey({ plans: [{ name: 'p', throttle: { rateLimit: 1 } }] }),
      /usage plan "p" needs both throttle\.rateLimit and throttle\.burstLimit/,
    ],
    ['a quota without a period', () => ApiAuth.apiKey({ plans: [{ ...plan, quota: { limit: 5 } }] }), /quota needs both limit and period/],
    [
      'one key in two plans',
      () =>
        ApiAuth.apiKey({
          plans: [
            { ...plan, createKeys: ['k'] },
            { ...plan, name: 'q', createKeys: ['k'] },
          ],
        }),
      /API key "k" appears in two usage plans/,
    ],
    [
      'a JWT issuer over http',
      () => ApiAuth.jwt({ issuer: 'http://login.example.com', audience: ['a'] }),
      /issuer must be an https URL; got "http:\/\/login\.example\.com"/,
    ],
    ['a JWT without audience', () => ApiAuth.jwt({ issuer: 'https://login.example.com', audience: [] }), /audience needs at least one/],
    ['Cognito without a pool', () => ApiAuth.cognito({ userPools: [] }), /needs at least one user pool/],
    [
      'a stage throttle without a burst',
      () => new ModelApi(new Stack(new App({ context: projectContext() }), 'S'), 'Api', { throttle: { rateLimit: 5 } }),
      /ModelApi needs both throttle\.rateLimit and throttle\.burstLimit/,
    ],
  ])('%s', (_what, make, error) => {
    expect(make).toThrow(error);
  });

  test('the same model name twice', () => {
    // GIVEN an API that serves tiny-mlp  WHEN tiny-mlp is added again  THEN it is refused
    expect(() => built.apiKey.api.addModel(built.apiKey.model)).toThrow(/already serves a model named "tiny-mlp"/);
  });
});
