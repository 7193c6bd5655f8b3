/**
 * examples/consumer, a separate CDK app, synthesizes while importing modelship exactly as an outside user
 * does: it is copied to a temp dir whose node_modules links `modelship` to this package (what
 * `"modelship": "file:../.."` installs) and aws-cdk-lib, constructs and @types/node to this package's own,
 * type-checked against dist/'s declarations through the "exports" map, bundled with esbuild the way its
 * cdk.json does, and run with `node` as `cdk synth` runs it. No npm install, no network, no Docker.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildSync } from 'esbuild';
import { NO_DOCKER } from '../constructs/synth-helpers';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'consumer');
const SHA256 = '0123456789abcdef'.repeat(4);
const CONTEXT = {
  registryBucket: 'acme-model-registry',
  registryPrefix: 'prod',
  modelName: 'mnist-mlp',
  modelVersion: '1.0.0',
  tarballSha256: SHA256,
  modelBytes: 420_000,
};

let work: string;
let template: Template;
let outdir: string;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

beforeAll(() => {
  // dist/ is what the "exports" map points at: built by jest's globalSetup (or `npx tsc -p .`).
  expect(existsSync(join(ROOT, 'dist', 'lib', 'constructs', 'index.js'))).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelship-consumer-'));
  for (const entry of ['bin', 'lib', 'tsconfig.json', 'package.json', 'cdk.json'])
    cpSync(join(EXAMPLE, entry), join(work, entry), { recursive: true });
  mkdirSync(join(work, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(work, 'node_modules', 'modelship'), 'dir');
  for (const dep of ['aws-cdk-lib', 'constructs', '@types/node'])
    symlinkSync(join(ROOT, 'node_modules', dep), join(work, 'node_modules', dep), 'dir');
  outdir = join(work, 'cdk.out');
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('imports modelship only by its package name, never by a path into this repository', () => {
  const files = sourceFiles(EXAMPLE).filter((f) => !f.includes('node_modules'));
  expect(files.length).toBeGreaterThan(0);
  const imports = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]));
  expect(imports).toContain('modelship/constructs');
  expect(imports.filter((i) => i.startsWith('../..') || i.includes('/lib/constructs'))).toEqual([]);
  expect(
    (JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.modelship,
  ).toBe('file:../..');
});

test('type-checks against the published declarations (the "exports" map, dist/*.d.ts)', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(work, 'tsconfig.json')], { cwd: work, encoding: 'utf8' });
  expect(`${result.stdout}${result.stderr}`).toBe('');
  expect(result.status).toBe(0);
});

describe('cdk synth of the consumer app', () => {
  beforeAll(() => {
    // WHEN the app is bundled as its cdk.json does and run as `cdk synth` runs it
    buildSync({
      entryPoints: [join(work, 'bin', 'consumer.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
      outfile: join(work, 'dist', 'consumer.js'),
    });
    const result = spawnSync(process.execPath, [join(work, 'dist', 'consumer.js')], {
      cwd: work,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: work, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(CONTEXT), CDK_DOCKER: NO_DOCKER },
      timeout: 120_000,
    });
    if (result.status !== 0) throw new Error(`the consumer app failed (${result.status}):\n${result.stderr}`);
    template = Template.fromJSON(JSON.parse(readFileSync(join(outdir, 'ModelConsumer.template.json'), 'utf8')) as Record<string, unknown>);
  });

  test('the function fetches exactly the published tarball, checked against its sha256', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MODEL_S3_BUCKET: 'acme-model-registry',
          MODEL_S3_KEY: 'prod/mnist-mlp/1.0.0/package.tgz',
          MODEL_SHA256: SHA256,
          MODEL_NAME: 'mnist-mlp',
          MODEL_VERSION: '1.0.0',
          MODEL_DIR: Match.absent(),
          POWERTOOLS_SERVICE_NAME: 'mnist-mlp',
        }),
      },
    });
  });

  test("its role may get exactly that one object, and the hook's likewise", () => {
    const objectArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-model-registry/prod/mnist-mlp/1.0.0/package.tgz']],
    };
    const policies = template.findResources('AWS::IAM::Policy');
    const s3Statements = Object.values(policies)
      .flatMap(
        (p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown }> } } }).Properties.PolicyDocument.Statement,
      )
      .filter((st) => JSON.stringify(st.Action).includes('s3:'));
    // The model's function and its pre-traffic hook: one grant each, on the one object.
    expect(s3Statements).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: objectArn },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: objectArn },
    ]);
  });

  test('behind an authenticated API, with the canary', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', ApiKeyRequired: true });
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live' });
    template.hasOutput('ApiUrl', {});
  });
});
