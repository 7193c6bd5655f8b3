/**
 * Synthesis for construct tests: one App per test file with its own cloud assembly directory, so that
 * bundled assets (and aws-cdk-lib's bundling cache) are shared by every stack in the file and removed
 * afterwards. Docker is made unusable first: if any bundling fell back to it, synth would fail.
 */
import { createHash } from 'node:crypto';
import { closeSync, cpSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';

/** A docker command that cannot run: CDK_DOCKER points every Docker call of aws-cdk-lib at it. */
export const NO_DOCKER = '/nonexistent/modelship-tests-never-run-docker';

/** The feature flags `cdk synth` uses for this project (cdk.json), so tests synthesize what the CLI would. */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface TestApp {
  readonly app: App;
  readonly outdir: string;
  /** A new env-agnostic stack in the app. */
  stack(id: string): Stack;
  cleanup(): void;
}

export function testApp(): TestApp {
  process.env.CDK_DOCKER = NO_DOCKER;
  const outdir = mkdtempSync(join(tmpdir(), 'modelship-cdk-'));
  const app = new App({ outdir, context: projectContext() });
  return {
    app,
    outdir,
    stack: (id) => new Stack(app, id),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * A package whose model is `modelBytes` of zeros in a sparse file: as large as a test needs on paper,
 * almost nothing on disk. Its manifest (copied from `template`) records that size and sha256, so it
 * passes ModelPackage.fromDirectory; onnxruntime could never load it, which no synth needs.
 */
export function sparsePackage(template: string, modelBytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-sparse-'));
  cpSync(template, dir, { recursive: true });
  const fd = openSync(join(dir, 'model.onnx'), 'w');
  ftruncateSync(fd, modelBytes);
  closeSync(fd);
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let left = modelBytes; left > 0; left -= chunk.length) hash.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
  const manifestPath = join(dir, 'modelship.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { model: Record<string, unknown> };
  manifest.model = { ...manifest.model, bytes: modelBytes, sha256: hash.digest('hex') };
  writeFileSync(manifestPath, JSON.stringify(manifest));
  return dir;
}

/** A resource of a synthesized template, typed only as far as tests read it. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties: Readonly<Record<string, unknown>>;
}

/** `Template.findResources`, typed. */
export function findResources(template: Template, type: string, props: object = {}): Record<string, TemplateResource> {
  return template.findResources(type, props) as Record<string, TemplateResource>;
}

export interface IntegrationResponseProps {
  readonly StatusCode: string;
  readonly SelectionPattern?: string;
  readonly ResponseTemplates?: Readonly<Record<string, string>>;
  readonly ResponseParameters?: Readonly<Record<string, string>>;
  readonly ContentHandling?: string;
}

/** The fields of an AWS::ApiGateway::Method's Integration that tests read. */
export interface IntegrationProps {
  readonly Type: string;
  readonly PassthroughBehavior?: string;
  readonly RequestTemplates?: Readonly<Record<string, string>>;
  readonly RequestParameters?: Readonly<Record<string, string>>;
  readonly ContentHandling?: string;
  readonly IntegrationResponses?: readonly IntegrationResponseProps[];
  readonly Uri?: unknown;
  readonly [key: string]: unknown;
}

export interface MethodProps {
  readonly HttpMethod: string;
  readonly ResourceId: unknown;
  readonly AuthorizationType?: string;
  readonly ApiKeyRequired?: boolean;
  readonly Integration: IntegrationProps;
  readonly MethodResponses?: ReadonlyArray<{ readonly StatusCode: string }>;
  readonly RequestParameters?: Readonly<Record<string, boolean>>;
  readonly RequestValidatorId?: unknown;
  readonly RequestModels?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

interface Ref {
  readonly Ref: string;
}

/** Every API Gateway method of a template as `<HTTP method> <resource path>`, with its properties. */
export function apiMethods(template: Template): Array<{ readonly route: string; readonly props: MethodProps }> {
  const resources = findResources(template, 'AWS::ApiGateway::Resource');
  // A resource's parent is the API's root (a GetAtt) or another resource (a Ref).
  const pathOf = (ref: unknown): string => {
    if (typeof ref !== 'object' || ref === null || !('Ref' in ref)) return '';
    const resource = resources[(ref as Ref).Ref].Properties as { ParentId: unknown; PathPart: string };
    return `${pathOf(resource.ParentId)}/${resource.PathPart}`;
  };
  return Object.values(findResources(template, 'AWS::ApiGateway::Method')).map((m) => {
    const props = m.Properties as unknown as MethodProps;
    return { route: `${props.HttpMethod} ${pathOf(props.ResourceId) || '/'}`, props };
  });
}

/** The one method of a route. */
export function apiMethod(template: Template, route: string): MethodProps {
  const found = apiMethods(template).filter((m) => m.route === route);
  if (found.length !== 1) throw new Error(`${found.length} methods for ${route}`);
  return found[0].props;
}

/** The value, or a failed test saying what was missing. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/** An IAM policy document in a template. */
export interface PolicyDocument {
  readonly Statement: ReadonlyArray<{
    readonly Action: string | readonly string[];
    readonly Effect: string;
    readonly Resource?: unknown;
    readonly Principal?: unknown;
    readonly [key: string]: unknown;
  }>;
}

/** The statements of every AWS::IAM::Policy attached to the role `roleId`. */
export function roleStatements(template: Template, roleId: string): PolicyDocument['Statement'] {
  return Object.values(findResources(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as ReadonlyArray<{ Ref?: string }> | undefined)?.some((r) => r.Ref === roleId))
    .flatMap((p) => (p.Properties.PolicyDocument as PolicyDocument).Statement);
}

/** What tests read of an AWS::Lambda::Function's properties. */
export interface LambdaFunctionProps {
  readonly Code: { readonly S3Key: string; readonly S3Bucket?: unknown };
  readonly Environment: { readonly Variables: Readonly<Record<string, string>> };
}

/** The stack's Lambda functions, typed as far as tests read them. */
export function lambdaFunctions(template: Template): Array<{ readonly Properties: LambdaFunctionProps }> {
  return Object.values(template.findResources('AWS::Lambda::Function')) as Array<{ Properties: LambdaFunctionProps }>;
}
