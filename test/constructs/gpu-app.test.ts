/**
 * bin/app.ts with gpu packages, through the real CDK CLI as a user runs it (no credentials, no Docker):
 * SageMaker by default, ECS when the manifest says so, and context gpuPlatform overriding every manifest.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeGpuPackage } from './gpu-fixtures';
import { NO_DOCKER } from './synth-helpers';

const ROOT = join(__dirname, '..', '..');
let work: string;
let models: string;

interface Synth {
  readonly status: number | null;
  readonly stderr: string;
  readonly template?: { Resources: Record<string, { Type: string; Properties: unknown }>; Description?: string };
  readonly report?: { pluginReports: Array<{ conclusion: string }> };
}

function synth(name: string, context: string[] = []): Synth {
  const out = join(work, name);
  const result = spawnSync(
    'npx',
    [
      '--no-install',
      'cdk',
      'synth',
      '--quiet',
      '--no-notices',
      '-c',
      `modelship:modelsDir=${models}`,
      ...context.flatMap((c) => ['-c', c]),
      '--output',
      out,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
      env: { PATH: process.env.PATH, HOME: join(work, 'home'), CDK_DOCKER: NO_DOCKER, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    },
  );
  if (result.status !== 0) return { status: result.status, stderr: result.stderr };
  return {
    status: 0,
    stderr: '',
    template: JSON.parse(readFileSync(join(out, 'Modelship.template.json'), 'utf8')) as Synth['template'],
    report: JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as Synth['report'],
  };
}

/** The template's resources of one type, with their properties typed as far as the caller reads them. */
function types<P = unknown>(s: Synth, type: string): Array<{ Type: string; Properties: P }> {
  return Object.values(s.template!.Resources).filter((r) => r.Type === type) as Array<{ Type: string; Properties: P }>;
}

interface SageMakerModelProps {
  PrimaryContainer: { Environment: Record<string, string> };
}
interface TaskDefinitionProps {
  ContainerDefinitions: Array<{ LogConfiguration: { Options: Record<string, string> } }>;
}

let byManifest: Synth;
let byContext: Synth;
let badContext: Synth;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'modelship-gpu-app-'));
  mkdirSync(join(work, 'home'));
  models = join(work, 'models');
  const { cpSync } = await import('node:fs');
  cpSync(await makeGpuPackage({ name: 'gpu-default' }), join(models, 'gpu-default'), { recursive: true });
  cpSync(await makeGpuPackage({ name: 'gpu-ecs', gpuPlatform: 'ecs', seed: 5 }), join(models, 'gpu-ecs'), { recursive: true });
  byManifest = synth('by-manifest');
  byContext = synth('by-context', ['gpuPlatform=ecs']);
  badContext = synth('bad-context', ['gpuPlatform=lambda']);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('`cdk synth` succeeds offline, without credentials or Docker, and cdk-nag reports no failure', () => {
  for (const s of [byManifest, byContext]) {
    expect({ status: s.status, stderr: s.stderr }).toEqual({ status: 0, stderr: '' });
    expect(s.report!.pluginReports.filter((r) => r.conclusion !== 'success')).toEqual([]);
  }
});

test('a gpu package goes to SageMaker by default, and to ECS when its manifest says gpu.platform ecs', () => {
  expect(byManifest.template!.Description).toBe('modelship: gpu-default 1.0.0 on SageMaker, gpu-ecs 1.0.0 on ECS behind API Gateway');
  expect(
    types<SageMakerModelProps>(byManifest, 'AWS::SageMaker::Model').map(
      (m) => m.Properties.PrimaryContainer.Environment.SAGEMAKER_TRITON_DEFAULT_MODEL_NAME,
    ),
  ).toEqual(['gpu-default']);
  expect(
    types<TaskDefinitionProps>(byManifest, 'AWS::ECS::TaskDefinition').map(
      (t) => t.Properties.ContainerDefinitions[0].LogConfiguration.Options['awslogs-stream-prefix'],
    ),
  ).toEqual(['gpu-ecs']);
  expect(types(byManifest, 'AWS::SageMaker::Endpoint')).toHaveLength(1);
  expect(types(byManifest, 'AWS::ECS::Service')).toHaveLength(1);
  // Both behind the one API.
  expect(types(byManifest, 'AWS::ApiGateway::RestApi')).toHaveLength(1);
  const parts = types<{ PathPart: string }>(byManifest, 'AWS::ApiGateway::Resource').map((r) => r.Properties.PathPart);
  expect(parts).toEqual(expect.arrayContaining(['gpu-default', 'gpu-ecs']));
});

test('context gpuPlatform=ecs puts every gpu package on ECS', () => {
  expect(byContext.template!.Description).toBe('modelship: gpu-default 1.0.0 on ECS, gpu-ecs 1.0.0 on ECS behind API Gateway');
  expect(types(byContext, 'AWS::SageMaker::Endpoint')).toHaveLength(0);
  expect(types(byContext, 'AWS::ECS::Service')).toHaveLength(2);
});

test('an unknown gpuPlatform fails the synth, naming the value', () => {
  expect(badContext.status).not.toBe(0);
  expect(badContext.stderr).toMatch(/context gpuPlatform must be sagemaker or ecs; got "lambda"/);
});
