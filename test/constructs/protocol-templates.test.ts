/**
 * The API Gateway templates ModelApi generates from lib/protocol/responses.ts answer every route the
 * router answers with the same status and the same bytes: server metadata, health, a GPU model's
 * metadata and readiness with and without a version, and the unknown-version 404, for the SageMaker
 * and the ECS backend alike. The router runs over a real engine loaded from models/mnist-cnn; the
 * templates are read from the synthesized stacks and rendered by test/constructs/vtl-renderer.ts.
 * (A Lambda model's routes are the router itself; API Gateway's own 401/403/429 are gateway responses,
 * documented apart in the README.)
 */
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsGpuModel } from '../../lib/constructs/ecs-gpu-model';
import type { IModelBackend } from '../../lib/constructs/model-backend';
import { ModelApi } from '../../lib/constructs/model-api';
import { ModelPackage } from '../../lib/constructs/model-package';
import { unknownVersionTemplate, vtlText } from '../../lib/constructs/private/protocol-templates';
import { SageMakerModel } from '../../lib/constructs/sagemaker-model';
import { InferenceEngine } from '../../lib/engine/engine';
import { ModelRouter } from '../../lib/router/router';
import { apiMethod, testApp, type TestApp } from './synth-helpers';
import { escapeJavaScript, renderMock, renderResponse } from './vtl-renderer';

const MNIST_CNN = join(__dirname, '..', '..', 'models', 'mnist-cnn');

let t: TestApp;
let pkg: ModelPackage;
let router: ModelRouter;
const templates: Partial<Record<'sagemaker' | 'ecs', Template>> = {};

beforeAll(async () => {
  t = testApp();
  pkg = ModelPackage.fromDirectory(MNIST_CNN);
  router = new ModelRouter([await InferenceEngine.load(MNIST_CNN)]);
  const backends: Record<'sagemaker' | 'ecs', (stack: ReturnType<TestApp['stack']>) => IModelBackend> = {
    sagemaker: (stack) => new SageMakerModel(stack, 'Model', { modelPackage: pkg }),
    ecs: (stack) => new EcsGpuModel(stack, 'Model', { modelPackage: pkg }),
  };
  // Every stack is built before the first synth, which freezes the app.
  const stacks = (Object.entries(backends) as Array<['sagemaker' | 'ecs', (typeof backends)['ecs']]>).map(([kind, backend]) => {
    const stack = t.stack(`Templates${kind}`);
    new ModelApi(stack, 'Api').addModel(backend(stack));
    return [kind, stack] as const;
  });
  for (const [kind, stack] of stacks) templates[kind] = Template.fromStack(stack);
});

afterAll(() => t.cleanup());

function template(kind: 'sagemaker' | 'ecs'): Template {
  const found = templates[kind];
  if (found === undefined) throw new Error(`no ${kind} template`);
  return found;
}

/** What the router answers for a GET of `path`, its body as bytes. */
async function routerAnswer(path: string): Promise<{ status: number; body: Buffer; contentType: string | undefined }> {
  const answer = await router.handle({ method: 'GET', path, headers: {}, body: new Uint8Array() });
  const contentType = Object.entries(answer.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return { status: answer.status, body: Buffer.from(answer.body), contentType };
}

/** A route of the router's, and the API Gateway resource and path parameters that serve it. */
interface Case {
  readonly path: string;
  readonly route: string;
  readonly version?: string;
}

const VERSIONS_UNKNOWN = ['9.9.9', '2.0.0-rc.1+build.5', `it's "quoted" \\ too`];

const CASES: readonly Case[] = [
  { path: '/v2', route: 'GET /v2' },
  { path: '/v2/health/live', route: 'GET /v2/health/live' },
  { path: '/v2/health/ready', route: 'GET /v2/health/ready' },
  { path: '/v2/models/mnist-cnn', route: 'GET /v2/models/mnist-cnn' },
  { path: '/v2/models/mnist-cnn/ready', route: 'GET /v2/models/mnist-cnn/ready' },
  { path: '/v2/models/mnist-cnn/versions/1.0.0', route: 'GET /v2/models/mnist-cnn/versions/{version}', version: '1.0.0' },
  { path: '/v2/models/mnist-cnn/versions/1.0.0/ready', route: 'GET /v2/models/mnist-cnn/versions/{version}/ready', version: '1.0.0' },
  ...VERSIONS_UNKNOWN.flatMap((version) => [
    { path: `/v2/models/mnist-cnn/versions/${encodeURIComponent(version)}`, route: 'GET /v2/models/mnist-cnn/versions/{version}', version },
    {
      path: `/v2/models/mnist-cnn/versions/${encodeURIComponent(version)}/ready`,
      route: 'GET /v2/models/mnist-cnn/versions/{version}/ready',
      version,
    },
  ]),
];

describe.each(['sagemaker', 'ecs'] as const)('%s: API Gateway answers what the router answers, byte for byte', (kind) => {
  test.each(CASES)('GET $path', async ({ path, route, version }) => {
    // GIVEN the router's answer over the real engine
    const expected = await routerAnswer(path);
    expect(expected.contentType).toMatch(/^application\/json/);
    // WHEN API Gateway renders the route's mock integration for the same path parameters
    const integration = apiMethod(template(kind), route).Integration;
    expect(integration.Type).toBe('MOCK');
    const rendered = renderMock(integration, { path: { version } });
    // THEN the status and every byte are the router's
    expect({ path, status: rendered.status }).toEqual({ path, status: expected.status });
    expect(Buffer.from(rendered.body, 'utf8').toString('hex')).toBe(expected.body.toString('hex'));
  });

  test("the 404s the cases cover are the router's unknown-version answers", async () => {
    const answers = await Promise.all(VERSIONS_UNKNOWN.map((v) => routerAnswer(`/v2/models/mnist-cnn/versions/${encodeURIComponent(v)}`)));
    expect(answers.map((a) => a.status)).toEqual(VERSIONS_UNKNOWN.map(() => 404));
    expect(JSON.parse(answers[0].body.toString('utf8'))).toEqual({ error: "model 'mnist-cnn' has no version '9.9.9'; it has: 1.0.0" });
  });
});

describe('generated VTL', () => {
  test.each([
    'plain text',
    'a $reference, $!quiet and ${formal}',
    '#set($x = 1)#if($x)yes#end ## a comment #* a block *#',
    'backslashes \\$escaped \\\\#escaped and a last one \\',
    '$$##\\\\',
  ])('vtlText renders as exactly the text: %s', (text) => {
    expect(renderResponse(vtlText(text), { path: {} })).toBe(text);
  });

  test('a tensor name with VTL syntax in it is sent as it is', () => {
    const body = JSON.stringify({ name: 'in$put#1\\"', datatype: 'FP32' });
    expect(renderResponse(vtlText(body), { path: {} })).toBe(body);
    expect(vtlText('{"a":1}')).toBe('{"a":1}');
  });

  test("the unknown-version template: the protocol's message, the version JSON-escaped by VTL", () => {
    const tmpl = unknownVersionTemplate(pkg);
    expect(tmpl).toBe(
      `{"error":"model 'mnist-cnn' has no version '$util.escapeJavaScript($input.params().path.get('version')).replaceAll("\\\\'","'")'; it has: 1.0.0"}`,
    );
    for (const version of ['1.2.3', `a'b"c\\d`, 'tab\there']) {
      const body = renderResponse(tmpl, { path: { version } });
      expect(JSON.parse(body)).toEqual({ error: `model 'mnist-cnn' has no version '${version}'; it has: 1.0.0` });
    }
  });

  test('the renderer refuses VTL it does not implement, and escapes as Commons Lang does', () => {
    expect(() => renderResponse('$input.body', { path: {} })).toThrow(/unsupported VTL/);
    expect(() => renderResponse('#foreach($x in $y)#end', { path: {} })).toThrow(/unsupported VTL/);
    expect(escapeJavaScript(`a'b"c\\d/e\nf\u0001é`)).toBe('a\\\'b\\"c\\\\d\\/e\\nf\\u0001\\u00E9');
  });
});
