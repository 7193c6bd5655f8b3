/**
 * ModelApi serving GPU models: the routes of a SageMaker and an ECS model under the same auth as CPU
 * models, "same request, same response" against the local server's router, the integration role's
 * least privilege, and cdk-nag over GPU stacks. Every stack is built before the first synth.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ApiAuth } from '../../lib/constructs/api-auth';
import { EcsGpuModel } from '../../lib/constructs/ecs-gpu-model';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelApi } from '../../lib/constructs/model-api';
import { ModelPackage } from '../../lib/constructs/model-package';
import { SageMakerModel } from '../../lib/constructs/sagemaker-model';
import { InferenceEngine } from '../../lib/engine/engine';
import { encodeInferRequest } from '../../lib/protocol/client-codec';
import type { HttpRequest, HttpResponse } from '../../lib/router/http';
import { ModelRouter } from '../../lib/router/router';
import { makeTinyMlpPackage } from '../helpers/fixtures';
import { makeGpuPackage } from './gpu-fixtures';
import {
  apiMethod,
  apiMethods,
  defined,
  findResources,
  type IntegrationProps,
  type MethodProps,
  type PolicyDocument,
  projectContext,
  roleStatements,
  testApp,
  type TestApp,
} from './synth-helpers';

let t: TestApp;
let smPkg: ModelPackage;
let ecsPkg: ModelPackage;
let router: ModelRouter;
const stacks: Record<'sagemaker' | 'ecs' | 'iam' | 'full', Stack> = {} as never;
const apis: Record<string, ModelApi> = {};
let sm: SageMakerModel;
let ecsModel: EcsGpuModel;
let iamEcsModel: EcsGpuModel;
let templates: Record<keyof typeof stacks, Template>;

const MODEL_ROUTES = (name: string) => [
  `GET /v2/models/${name}`,
  `GET /v2/models/${name}/ready`,
  `POST /v2/models/${name}/infer`,
  `GET /v2/models/${name}/versions/{version}`,
  `GET /v2/models/${name}/versions/{version}/ready`,
  `POST /v2/models/${name}/versions/{version}/infer`,
];

function methods(template: Template): Array<{ route: string; props: MethodProps }> {
  return apiMethods(template);
}

function method(template: Template, route: string): MethodProps {
  return apiMethod(template, route);
}

/**
 * What API Gateway sends to a non-proxy integration, by its documented rules: a request template for
 * the content type transforms the body; without any template and with passthrough allowed, the body
 * goes through byte for byte (no ContentHandling conversion), and headers only as RequestParameters map them.
 */
function forwarded(
  integration: Partial<IntegrationProps>,
  request: { headers: Record<string, string>; body: Uint8Array },
): { headers: Record<string, string>; body: Uint8Array } {
  const contentType = request.headers['content-type'].split(';')[0].trim();
  const templates = integration.RequestTemplates ?? {};
  if (Object.keys(templates).length > 0)
    throw new Error(`a request template (${Object.keys(templates).join(', ')}) rewrites the body for ${contentType}`);
  if (!['WHEN_NO_TEMPLATES', 'WHEN_NO_MATCH'].includes(integration.PassthroughBehavior ?? ''))
    throw new Error(`passthrough ${integration.PassthroughBehavior} refuses ${contentType}`);
  if (integration.ContentHandling !== undefined) throw new Error(`ContentHandling ${integration.ContentHandling} converts the body`);
  const headers: Record<string, string> = {};
  for (const [target, source] of Object.entries(integration.RequestParameters ?? {})) {
    const header = /^integration\.request\.header\.(.+)$/.exec(target)?.[1];
    const from = /^method\.request\.header\.(.+)$/.exec(source)?.[1];
    if (header && from && request.headers[from.toLowerCase()] !== undefined)
      headers[header.toLowerCase()] = request.headers[from.toLowerCase()];
  }
  return { headers, body: request.body };
}

function infer(headers: Record<string, string>, body: Uint8Array, path = '/v2/models/tiny-gpu/infer'): Promise<HttpResponse> {
  return router.handle({ method: 'POST', path, headers, body } satisfies HttpRequest);
}

function get(path: string): Promise<HttpResponse> {
  return router.handle({ method: 'GET', path, headers: {}, body: new Uint8Array() });
}

function jsonBody(response: HttpResponse): unknown {
  return JSON.parse(typeof response.body === 'string' ? response.body : Buffer.from(response.body).toString('utf8'));
}

beforeAll(async () => {
  t = testApp();
  smPkg = ModelPackage.fromDirectory(await makeGpuPackage());
  ecsPkg = ModelPackage.fromDirectory(await makeGpuPackage({ name: 'tiny-ecs', gpuPlatform: 'ecs', seed: 3 }));
  router = new ModelRouter([await InferenceEngine.load(smPkg.directory)]);

  stacks.sagemaker = t.stack('SageMaker');
  apis.sagemaker = new ModelApi(stacks.sagemaker, 'Api');
  sm = new SageMakerModel(stacks.sagemaker, 'Model', { modelPackage: smPkg });
  apis.sagemaker.addModel(sm);

  stacks.ecs = t.stack('Ecs');
  apis.ecs = new ModelApi(stacks.ecs, 'Api');
  ecsModel = new EcsGpuModel(stacks.ecs, 'Model', { modelPackage: ecsPkg });
  apis.ecs.addModel(ecsModel, { throttle: { rateLimit: 3, burstLimit: 6 } });

  stacks.iam = t.stack('Iam');
  apis.iam = new ModelApi(stacks.iam, 'Api', { auth: ApiAuth.iam() });
  const iamModel = new SageMakerModel(stacks.iam, 'Model', { modelPackage: smPkg });
  apis.iam.addModel(iamModel);
  const caller = new iam.Role(stacks.iam, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
  apis.iam.grantInvoke(caller, iamModel);
  iamEcsModel = new EcsGpuModel(stacks.iam, 'Ecs', { modelPackage: ecsPkg });
  apis.iam.addModel(iamEcsModel);
  apis.iam.grantInvoke(caller, iamEcsModel);

  // A CPU model, a SageMaker model with every option, and an ECS model, behind one API with a JWT authorizer.
  stacks.full = t.stack('Full');
  apis.full = new ModelApi(stacks.full, 'Api', { auth: ApiAuth.jwt({ issuer: 'https://login.example.com', audience: ['modelship'] }) });
  apis.full.addModel(new LambdaModel(stacks.full, 'Cpu', { modelPackage: ModelPackage.fromDirectory((await makeTinyMlpPackage()).dir) }));
  const bucket = new s3.Bucket(stacks.full, 'Capture', { enforceSSL: true, serverAccessLogsPrefix: 'logs/' });
  apis.full.addModel(
    new SageMakerModel(stacks.full, 'Gpu', {
      modelPackage: smPkg,
      encryptionKey: new kms.Key(stacks.full, 'Key', { enableKeyRotation: true }),
      dataCapture: { bucket },
    }),
  );
  apis.full.addModel(new EcsGpuModel(stacks.full, 'Ecs', { modelPackage: ecsPkg }));

  templates = Object.fromEntries(Object.entries(stacks).map(([k, s]) => [k, Template.fromStack(s)])) as never;
});

afterAll(() => t.cleanup());

describe('routes', () => {
  test('a SageMaker model gets the six v2 routes of a CPU model, with the same auth', () => {
    const routes = methods(templates.sagemaker)
      .map((m) => m.route)
      .filter((r) => r.includes('/models/'))
      .sort();
    expect(routes).toEqual(MODEL_ROUTES('tiny-gpu').sort());
    for (const { route, props } of methods(templates.sagemaker)) {
      expect({ route, auth: props.AuthorizationType, key: props.ApiKeyRequired }).toEqual({ route, auth: 'NONE', key: true });
    }
    for (const { route, props } of methods(templates.iam))
      expect({ route, auth: props.AuthorizationType }).toEqual({ route, auth: 'AWS_IAM' });
    for (const { route, props } of methods(templates.full).filter((m) => m.route.includes('/models/'))) {
      expect({ route, auth: props.AuthorizationType }).toEqual({ route, auth: 'CUSTOM' });
    }
  });

  test('an ECS model gets the same routes, and its throttle applies to each of them', () => {
    expect(
      methods(templates.ecs)
        .map((m) => m.route)
        .filter((r) => r.includes('/models/'))
        .sort(),
    ).toEqual(MODEL_ROUTES('tiny-ecs').sort());
    const [stage] = Object.values(findResources(templates.ecs, 'AWS::ApiGateway::Stage'));
    const ms = (stage.Properties.MethodSettings as Array<{ ResourcePath: string; HttpMethod: string }>).filter(
      (m) => m.ResourcePath !== '/*',
    );
    expect(ms).toHaveLength(6);
    for (const m of ms) expect(m).toMatchObject({ ThrottlingRateLimit: 3, ThrottlingBurstLimit: 6 });
    expect(ms.map((m) => `${m.HttpMethod} ${m.ResourcePath}`).sort()).toEqual(
      [
        'GET /~1v2~1models~1tiny-ecs',
        'GET /~1v2~1models~1tiny-ecs~1ready',
        'GET /~1v2~1models~1tiny-ecs~1versions~1{version}',
        'GET /~1v2~1models~1tiny-ecs~1versions~1{version}~1ready',
        'POST /~1v2~1models~1tiny-ecs~1infer',
        'POST /~1v2~1models~1tiny-ecs~1versions~1{version}~1infer',
      ].sort(),
    );
  });

  test('a name is served once, whatever serves it', () => {
    const stack = new Stack(new App({ context: projectContext() }), 'Twice');
    const api = new ModelApi(stack, 'Api');
    const model = new SageMakerModel(stack, 'A', { modelPackage: smPkg });
    api.addModel(model);
    expect(() => api.addModel(model)).toThrow(/ModelApi already serves a model named "tiny-gpu"/);
    expect(api.modelNames).toEqual(['tiny-gpu']);
  });

  test('grantInvoke for one SageMaker model covers its routes and the health routes only', () => {
    const [policy] = Object.values(
      findResources(templates.iam, 'AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }] } }),
    );
    const resources = JSON.stringify((policy.Properties.PolicyDocument as PolicyDocument).Statement[0].Resource);
    for (const p of ['/v2"', '/v2/health/*"', '/v2/models/tiny-gpu"', '/v2/models/tiny-gpu/*"']) expect(resources).toContain(p);
  });

  test("the dashboard shows the SageMaker model's latency, invocations and errors", () => {
    const body = JSON.stringify(
      Object.values(findResources(templates.sagemaker, 'AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody,
    );
    for (const s of [
      'tiny-gpu 1.0.0 (SageMaker)',
      'tiny-gpu: model latency',
      'ModelLatency',
      'Invocation5XXErrors',
      'Invocation4XXErrors',
      sm.endpointName,
    ])
      expect(body).toContain(s);
  });
});

describe('addModel binds each backend itself', () => {
  test('SageMakerModel: read routes are manifest mocks that may answer 404, infer an AWS integration with an invoke role under the API', () => {
    // GIVEN an API and a SageMaker model  WHEN api.addModel(model)  THEN each kind of route gets the backend's integration and options
    const role = invokeRole();
    expect(role).toMatch(/^ApitinygpuInvokeRole[0-9A-F]{8}$/);
    templates.sagemaker.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: {
        Type: 'MOCK',
        PassthroughBehavior: 'NEVER',
        RequestTemplates: { 'application/json': Match.stringLikeRegexp('"\\$v" == "1\\.0\\.0"') },
      },
      MethodResponses: [{ StatusCode: '200' }, { StatusCode: '404' }],
      RequestValidatorId: Match.absent(),
    });
    templates.sagemaker.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: {
        Type: 'AWS',
        Credentials: { 'Fn::GetAtt': [role, 'Arn'] },
        RequestTemplates: Match.absent(),
        ContentHandling: Match.absent(),
      },
      RequestValidatorId: Match.anyValue(),
      RequestParameters: { 'method.request.header.Content-Type': false, 'method.request.header.Accept': false },
    });
  });

  test('EcsGpuModel: read routes are the same manifest mocks; infer is an HTTP proxy with no method responses or parameters of its own', () => {
    templates.ecs.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: { Type: 'MOCK', PassthroughBehavior: 'NEVER' },
      MethodResponses: [{ StatusCode: '200' }, { StatusCode: '404' }],
    });
    templates.ecs.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: { Type: 'HTTP_PROXY', ConnectionType: 'VPC_LINK', Credentials: Match.absent(), IntegrationResponses: Match.absent() },
      RequestValidatorId: Match.anyValue(),
      RequestParameters: Match.absent(),
      MethodResponses: Match.absent(),
    });
    // No role: the VPC link needs none, and the backend creates nothing under the API.
    expect(
      Object.keys(findResources(templates.ecs, 'AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('^API Gateway') } })),
    ).toEqual([]);
  });

  test("EcsGpuModel: the dashboard shows its targets in both groups and its tasks' CPU", () => {
    const [dashboard] = Object.values(findResources(templates.ecs, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of [
      'tiny-ecs 1.0.0 (ECS)',
      'tiny-ecs: Triton targets',
      'tiny-ecs: task CPU (%)',
      'FILL(unhealthyBlue, 0) + FILL(unhealthyGreen, 0)',
      'FILL(healthyBlue, 0) + FILL(healthyGreen, 0)',
      'UnHealthyHostCount',
      'HealthyHostCount',
      'CPUUtilization',
    ])
      expect({ text, found: body.includes(text) }).toEqual({ text, found: true });
    for (const tg of [ecsModel.blueTargetGroup, ecsModel.greenTargetGroup]) {
      expect(body).toContain(`"${stacks.ecs.getLogicalId(tg.node.defaultChild as never)}","TargetGroupFullName"`);
    }
  });

  test('EcsGpuModel: api.grantInvoke grants its routes and the health routes, as for any backend', () => {
    const statements = Object.values(
      findResources(templates.iam, 'AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }] } }),
    ).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<{ Action: string; Resource: unknown }> }).Statement);
    expect(statements.every((st) => st.Action === 'execute-api:Invoke')).toBe(true);
    const resources = JSON.stringify(statements.map((st) => st.Resource));
    for (const path of ['/v2"', '/v2/health/*"', '/v2/models/tiny-ecs"', '/v2/models/tiny-ecs/*"'])
      expect({ path, found: resources.includes(path) }).toEqual({ path, found: true });
    expect(apis.iam.modelNames).toEqual(['tiny-gpu', iamEcsModel.modelName]);
  });
});

/** The role API Gateway assumes to call InvokeEndpoint (the other API Gateway role is the account's CloudWatch role). */
function invokeRole(): string {
  const roles = Object.keys(
    templates.sagemaker.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('InvokeEndpoint') } }),
  );
  expect(roles).toHaveLength(1);
  return roles[0];
}

describe('SageMaker infer: an AWS integration to InvokeEndpoint that forwards the body unchanged', () => {
  test('the integration: POST to runtime.sagemaker InvokeEndpoint of this endpoint, with its own role, no template, no conversion', () => {
    for (const route of ['POST /v2/models/tiny-gpu/infer', 'POST /v2/models/tiny-gpu/versions/{version}/infer']) {
      const m = method(templates.sagemaker, route);
      const role = invokeRole();
      expect(m.Integration).toEqual({
        Type: 'AWS',
        IntegrationHttpMethod: 'POST',
        Uri: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':apigateway:',
              { Ref: 'AWS::Region' },
              `:runtime.sagemaker:path/endpoints/${sm.endpointName}/invocations`,
            ],
          ],
        },
        Credentials: { 'Fn::GetAtt': [role, 'Arn'] },
        PassthroughBehavior: 'WHEN_NO_TEMPLATES',
        RequestParameters: {
          'integration.request.header.Content-Type': 'method.request.header.Content-Type',
          'integration.request.header.Accept': 'method.request.header.Accept',
        },
        IntegrationResponses: [
          { StatusCode: '200', ResponseParameters: { 'method.response.header.Content-Type': 'integration.response.header.Content-Type' } },
          {
            StatusCode: '400',
            SelectionPattern: '4\\d{2}',
            ResponseTemplates: { 'application/json': expect.stringContaining('OriginalMessage') as unknown },
          },
          {
            StatusCode: '503',
            SelectionPattern: '5\\d{2}',
            ResponseTemplates: { 'application/json': '{"error":"the model endpoint is unavailable; try again later"}' },
          },
        ],
      });
      expect(m.MethodResponses).toEqual([
        { StatusCode: '200', ResponseParameters: { 'method.response.header.Content-Type': true } },
        { StatusCode: '400' },
        { StatusCode: '503' },
      ]);
      expect(m.RequestParameters).toEqual({ 'method.request.header.Content-Type': false, 'method.request.header.Accept': false });
      expect(m.RequestValidatorId).toBeDefined();
      expect(m.RequestModels).toEqual({ 'application/json': expect.anything() as unknown });
    }
  });

  test("the binary extension's content types reach the integration as bytes (binary media types, no ContentHandling)", () => {
    templates.sagemaker.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: Match.arrayWith(['application/octet-stream', 'application/vnd.sagemaker-triton.binary+json']),
    });
    expect(method(templates.sagemaker, 'POST /v2/models/tiny-gpu/infer').Integration.ContentHandling).toBeUndefined();
    expect(
      method(templates.sagemaker, 'POST /v2/models/tiny-gpu/infer').Integration.IntegrationResponses?.[0].ContentHandling,
    ).toBeUndefined();
  });

  test('same request, same response: the golden sample body the local server answers is exactly what the integration forwards', async () => {
    // GIVEN the package's golden sample request, as a client sends it
    const sample = smPkg.manifest.samples[0];
    const body = readFileSync(join(smPkg.directory, sample.request));
    const request = { headers: { 'content-type': 'application/json', accept: 'application/json' }, body: new Uint8Array(body) };
    // WHEN API Gateway forwards it by the integration's settings
    const out = forwarded(method(templates.sagemaker, 'POST /v2/models/tiny-gpu/infer').Integration, request);
    // THEN the bytes and content type are the client's, and the local server answers both alike, with the recorded outputs
    expect(Buffer.from(out.body).equals(body)).toBe(true);
    expect(out.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
    const direct = await infer(request.headers, request.body);
    const via = await infer(out.headers, out.body);
    expect(direct.status).toBe(200);
    expect(via).toEqual(direct);
    const recorded = JSON.parse(readFileSync(join(smPkg.directory, sample.response), 'utf8')) as { outputs: Array<{ name: string }> };
    expect((jsonBody(via) as { outputs: Array<{ name: string }> }).outputs.map((o) => o.name)).toEqual(recorded.outputs.map((o) => o.name));
  });

  test("same request, same response: the binary extension with SageMaker's content type passes unchanged too", async () => {
    const encoded = encodeInferRequest(
      [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }],
      { binaryInputs: true, binaryOutputs: true, sagemaker: true },
    );
    expect(encoded.headers['content-type']).toMatch(/^application\/vnd\.sagemaker-triton\.binary\+json;json-header-size=\d+$/);
    const out = forwarded(method(templates.sagemaker, 'POST /v2/models/tiny-gpu/infer').Integration, {
      headers: encoded.headers,
      body: encoded.body,
    });
    expect(out.headers['content-type']).toBe(encoded.headers['content-type']);
    expect(Buffer.from(out.body).equals(Buffer.from(encoded.body))).toBe(true);
    const direct = await infer(encoded.headers, encoded.body);
    expect(direct.status).toBe(200);
    expect(await infer(out.headers, out.body)).toEqual(direct);
  });

  test('the check would fail for a body-rewriting template', () => {
    expect(() =>
      forwarded(
        { PassthroughBehavior: 'WHEN_NO_TEMPLATES', RequestTemplates: { 'application/json': "$input.json('$')" } },
        { headers: { 'content-type': 'application/json' }, body: new Uint8Array() },
      ),
    ).toThrow(/rewrites the body/);
    expect(() =>
      forwarded(
        { PassthroughBehavior: 'WHEN_NO_TEMPLATES', ContentHandling: 'CONVERT_TO_TEXT' },
        { headers: { 'content-type': 'application/json' }, body: new Uint8Array() },
      ),
    ).toThrow(/converts the body/);
  });

  test('least privilege: the integration role may call InvokeEndpoint on this endpoint and nothing else', () => {
    const roleId = invokeRole();
    const role = findResources(templates.sagemaker, 'AWS::IAM::Role')[roleId].Properties as {
      ManagedPolicyArns?: unknown;
      AssumeRolePolicyDocument: PolicyDocument;
    };
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } },
    ]);
    const statements = roleStatements(templates.sagemaker, roleId);
    expect(statements).toEqual([
      {
        Action: 'sagemaker:InvokeEndpoint',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':sagemaker:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:endpoint/${sm.endpointName}`,
            ],
          ],
        },
      },
    ]);
  });
});

describe('ECS infer: an HTTP proxy through the VPC link to Triton', () => {
  test("POST to Triton's own infer path on the internal load balancer, through the model's VPC link; nothing rewritten", () => {
    const link = Object.keys(templates.ecs.findResources('AWS::ApiGateway::VpcLink'))[0];
    const lb = Object.keys(templates.ecs.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0];
    for (const route of ['POST /v2/models/tiny-ecs/infer', 'POST /v2/models/tiny-ecs/versions/{version}/infer']) {
      expect(method(templates.ecs, route).Integration).toEqual({
        Type: 'HTTP_PROXY',
        IntegrationHttpMethod: 'POST',
        ConnectionType: 'VPC_LINK',
        ConnectionId: { Ref: link },
        TimeoutInMillis: 29000,
        Uri: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [lb, 'DNSName'] }, '/v2/models/tiny-ecs/infer']] },
      });
    }
  });
});

describe('metadata and ready: API Gateway answers exactly what the local server answers', () => {
  const mocks = (template: Template, route: string) => {
    const integration = method(template, route).Integration;
    expect(integration.Type).toBe('MOCK');
    return integration;
  };

  test.each(['sagemaker', 'ecs'] as const)(
    "%s: GET /v2/models/<name> and /ready equal the router's answers for the package",
    async (kind) => {
      const name = kind === 'sagemaker' ? 'tiny-gpu' : 'tiny-ecs';
      const pkgRouter = kind === 'sagemaker' ? router : new ModelRouter([await InferenceEngine.load(ecsPkg.directory)]);
      for (const [suffix, local] of [
        ['', `/v2/models/${name}`],
        ['/ready', `/v2/models/${name}/ready`],
      ] as const) {
        const answer = await pkgRouter.handle({ method: 'GET', path: local, headers: {}, body: new Uint8Array() });
        expect(answer.status).toBe(200);
        for (const route of [`GET /v2/models/${name}${suffix}`, `GET /v2/models/${name}/versions/{version}${suffix}`]) {
          const integration = mocks(templates[kind], route);
          const ok = defined(
            integration.IntegrationResponses?.find((r) => r.StatusCode === '200')?.ResponseTemplates,
            `the 200 template of ${route}`,
          );
          expect(JSON.parse(ok['application/json'])).toEqual(jsonBody(answer));
        }
      }
      const versioned = await pkgRouter.handle({
        method: 'GET',
        path: `/v2/models/${name}/versions/1.0.0`,
        headers: {},
        body: new Uint8Array(),
      });
      expect(jsonBody(versioned)).toEqual(
        jsonBody(await pkgRouter.handle({ method: 'GET', path: `/v2/models/${name}`, headers: {}, body: new Uint8Array() })),
      );
    },
  );

  test("a versioned path naming another version gets the router's 404 and message", async () => {
    const integration = mocks(templates.sagemaker, 'GET /v2/models/tiny-gpu/versions/{version}');
    expect(integration.PassthroughBehavior).toBe('NEVER');
    const request = defined(integration.RequestTemplates, 'the request template')['application/json'];
    expect(request).toContain("#set($v = $input.params().path.get('version'))");
    expect(request).toContain('#if("$!v" == "" || "$v" == "1.0.0"){"statusCode": 200}#else{"statusCode": 404}#end');
    const notFound = defined(
      integration.IntegrationResponses?.find((r) => r.StatusCode === '404'),
      'the 404 response',
    );
    expect(notFound.SelectionPattern).toBe('404');
    // The template with the path parameter substituted, as API Gateway renders it for version 9.9.9:
    const rendered = defined(notFound.ResponseTemplates, 'the 404 template')['application/json'].replace(
      /\$util\.escapeJavaScript\(\$input\.params\(\)\.path\.get\('version'\)\)\.replaceAll\("\\\\'","'"\)/,
      '9.9.9',
    );
    const local = await get('/v2/models/tiny-gpu/versions/9.9.9');
    expect(local.status).toBe(404);
    expect(JSON.parse(rendered)).toEqual(jsonBody(local));
    expect(method(templates.sagemaker, 'GET /v2/models/tiny-gpu/versions/{version}').MethodResponses).toEqual([
      { StatusCode: '200' },
      { StatusCode: '404' },
    ]);
  });
});

test('every method that maps integration responses declares a method response for each of their statuses', () => {
  // API Gateway refuses PutIntegrationResponse for a status without a method response.
  for (const name of ['sagemaker', 'ecs', 'iam', 'full'] as const) {
    for (const { route, props } of methods(templates[name])) {
      const integration = (props.Integration ?? {}) as { IntegrationResponses?: Array<{ StatusCode: string }> };
      const needed = (integration.IntegrationResponses ?? []).map((r) => r.StatusCode);
      const declared = ((props.MethodResponses ?? []) as Array<{ StatusCode: string }>).map((r) => r.StatusCode);
      expect({ name, route, missing: needed.filter((s) => !declared.includes(s)) }).toEqual({ name, route, missing: [] });
    }
  }
});

describe('cdk-nag', () => {
  function findings(stack: Stack): string[] {
    const report = new AwsSolutionsChecks(t.app, { verbose: true }).validateScope(stack);
    return (
      report.violations
        .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
        // The test's own IAM caller, granted the API's routes by stage-method ARN patterns; not modelship's resource.
        .filter((f) => !f.includes(' at Iam/Caller/'))
    );
  }

  function acknowledgements(scope: IConstruct): Array<{ id: string; reason: string }> {
    return scope.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason }))),
      );
  }

  test.each(['sagemaker', 'ecs', 'iam', 'full'] as const)('AwsSolutions: no unacknowledged finding in the %s stack', (name) => {
    expect(findings(stacks[name])).toEqual([]);
  });

  test('every acknowledgement names one rule or finding and gives a reason', () => {
    // Only cdk-nag's: aws-cdk-lib acknowledges its own CloudFormation-Validate findings.
    const all = (['sagemaker', 'ecs', 'iam', 'full'] as const)
      .flatMap((name) => acknowledgements(stacks[name]))
      .filter((a) => a.id.startsWith('Annotation::AwsSolutions-'));
    for (const a of all) {
      expect(a.id).toMatch(/^Annotation::AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?$/);
      expect(a.reason.length).toBeGreaterThan(40);
    }
    // No blanket IAM5: every wildcard is acknowledged by the finding it is.
    expect(all.filter((a) => a.id === 'Annotation::AwsSolutions-IAM5')).toEqual([]);
  });
});
