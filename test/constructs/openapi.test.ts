/**
 * A synthesized ModelApi's OpenAPI document: written into cdk.out by the generator `modelship serve`
 * uses, valid by a real OpenAPI 3.1 validator, naming each model's inputs and the API's auth mode; and,
 * with serveOpenApi, answered by API Gateway at GET /openapi.json behind that auth, with its URL output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { ApiAuth } from '../../lib/constructs/api-auth';
import type { IModelBackend, ModelBackendBinding } from '../../lib/constructs/model-backend';
import { ModelApi } from '../../lib/constructs/model-api';
import { ModelPackage } from '../../lib/constructs/model-package';
import { expectMatches, validateOpenApi, type Document } from '../openapi/helpers';
import { renderMock, type MockIntegrationTemplate } from './vtl-renderer';
import { testApp, type TestApp } from './synth-helpers';

const ROOT = join(__dirname, '..', '..');

/** A backend answered by mocks: what the document says depends on the package, not on how it is served. */
class MockBackend extends Construct implements IModelBackend {
  readonly modelPackage: ModelPackage;
  readonly modelName: string;
  readonly modelVersion: string;
  constructor(scope: Construct, id: string, dir: string) {
    super(scope, id);
    this.modelPackage = ModelPackage.fromDirectory(dir);
    this.modelName = this.modelPackage.name;
    this.modelVersion = this.modelPackage.version;
  }
  bind(): ModelBackendBinding {
    const mock = () =>
      new apigw.MockIntegration({
        requestTemplates: { 'application/json': '{"statusCode": 200}' },
        integrationResponses: [{ statusCode: '200' }],
      });
    return { integrations: { metadata: mock(), ready: mock(), infer: mock() }, widgets: [] };
  }
}

let t: TestApp;
let served: Stack;
let iam: Stack;
let servedApi: ModelApi;
let iamApi: ModelApi;

beforeAll(() => {
  t = testApp();
  served = t.stack('Served');
  servedApi = new ModelApi(served, 'Api', { serveOpenApi: true });
  for (const name of ['mnist-mlp', 'mnist-cnn']) servedApi.addModel(new MockBackend(served, name, join(ROOT, 'models', name)));
  iam = t.stack('Iam');
  iamApi = new ModelApi(iam, 'Api', { auth: ApiAuth.iam() });
  iamApi.addModel(new MockBackend(iam, 'mnist-mlp', join(ROOT, 'models', 'mnist-mlp')));
  t.app.synth();
});
afterAll(() => t.cleanup());

const written = (api: ModelApi): Document => JSON.parse(readFileSync(join(t.outdir, api.openApiFileName), 'utf8')) as Document;

test('synth writes the document into cdk.out, and a real OpenAPI 3.1 validator accepts it', async () => {
  expect(servedApi.openApiFileName).toMatch(/^Served\..+\.openapi\.json$/);
  const doc = written(servedApi);
  await validateOpenApi(doc);
  await validateOpenApi(written(iamApi));
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(['/v2', '/v2/models/mnist-mlp/infer', '/v2/models/mnist-cnn/versions/{version}/infer', '/openapi.json']),
  );
  // The API serves no repository index; only the local server does.
  expect(doc.paths).not.toHaveProperty(['/v2/repository/index']);
  const cnn = (
    doc.components.schemas['InferRequest.mnist-cnn'].properties as Record<string, { items: { properties: Record<string, unknown> } }>
  ).inputs.items;
  expect(cnn.properties.shape).toMatchObject({ prefixItems: [{ minimum: 0 }, { const: 28 }, { const: 28 }, { const: 1 }] });
  expectMatches(
    doc,
    'InferRequest.mnist-cnn',
    JSON.parse(readFileSync(join(ROOT, 'models', 'mnist-cnn', 'samples', '0.request.json'), 'utf8')),
  );
});

test("the security scheme is the API's auth mode", () => {
  expect(written(servedApi).security).toEqual([{ apiKey: [] }]);
  const iamDoc = written(iamApi);
  expect(iamDoc.security).toEqual([{ sigv4: [] }]);
  expect(iamDoc.components.securitySchemes.sigv4).toMatchObject({ 'x-amazon-apigateway-authtype': 'awsSigv4' });
  expect(iamDoc.paths).not.toHaveProperty(['/openapi.json']);
});

test('served: GET /openapi.json needs the API key and answers the document (without examples), and its URL is an output', () => {
  const template = Template.fromStack(served);
  const resources = template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'openapi.json' } });
  const [id] = Object.keys(resources);
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: id } } }));
  expect(methods).toHaveLength(1);
  const method = methods[0].Properties as { HttpMethod: string; ApiKeyRequired: boolean; Integration: MockIntegrationTemplate };
  expect(method).toMatchObject({ HttpMethod: 'GET', ApiKeyRequired: true });
  const answer = renderMock(method.Integration, { path: {} });
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toEqual(servedApi.openApiDocument({ examples: false }));
  const outputs = Object.values(template.findOutputs('*')).map((o) => (o as { Description?: string }).Description);
  expect(outputs).toContain("The API's OpenAPI 3.1 document (it needs the API's auth)");
  expect(Template.fromStack(iam).findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'openapi.json' } })).toEqual({});
});

test('cdk-nag AwsSolutions finds nothing unacknowledged on the served route', () => {
  const report = new AwsSolutionsChecks(t.app, { verbose: true }).validateScope(servedApi);
  const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
  expect(findings).toEqual([]);
});
