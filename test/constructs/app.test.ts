/**
 * bin/app.ts through the real CDK CLI, the way a user runs it: `npx cdk synth` with no AWS credentials
 * (HOME is empty, no AWS variables), Docker unusable, and the cdk.json app command. It deploys every cpu
 * package of the models directory and runs cdk-nag at synth.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { NO_DOCKER } from './synth-helpers';

const ROOT = join(__dirname, '..', '..');
let work: string;
let result: ReturnType<typeof spawnSync>;
interface FunctionProps {
  Environment?: { Variables?: Record<string, string> };
}
let template: {
  Resources: Record<string, { Type: string; Properties: FunctionProps }>;
  Outputs: Record<string, unknown>;
  Description?: string;
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'modelship-app-'));
  const models = join(work, 'models');
  mkdirSync(models);
  const tiny = await makeTinyMlpPackage(tempDir(), { name: 'tiny-cpu' });
  cpSync(tiny.dir, join(models, 'tiny-cpu'), { recursive: true });
  // A gpu package: deployed on SageMaker (test/constructs/gpu-app.test.ts covers the GPU path).
  cpSync(tiny.dir, join(models, 'tiny-gpu'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(models, 'tiny-gpu', 'modelship.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(models, 'tiny-gpu', 'modelship.json'), JSON.stringify({ ...manifest, name: 'tiny-gpu', target: 'gpu' }));
  // A directory that is not a package.
  mkdirSync(join(models, 'notes'));
  mkdirSync(join(work, 'home'));

  result = spawnSync(
    'npx',
    ['--no-install', 'cdk', 'synth', '--quiet', '--no-notices', '-c', `modelship:modelsDir=${models}`, '--output', join(work, 'cdk.out')],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { PATH: process.env.PATH, HOME: join(work, 'home'), CDK_DOCKER: NO_DOCKER, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    },
  );
  if (result.status === 0) template = JSON.parse(readFileSync(join(work, 'cdk.out', 'Modelship.template.json'), 'utf8')) as typeof template;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('`cdk synth` succeeds offline, without credentials or Docker', () => {
  expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
});

test('every cpu package of the models directory is deployed, and only those', () => {
  const functions = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.MODEL_DIR,
  );
  expect(functions.map((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME)).toEqual(['tiny-cpu']);
  expect(template.Description).toBe('modelship: tiny-cpu 1.0.0 on Lambda, tiny-gpu 1.0.0 on SageMaker behind API Gateway');
});

test('the URL and the API key id are outputs', () => {
  expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['ApiUrl']));
  expect(Object.values(template.Outputs).some((o) => JSON.stringify(o).includes('get-api-key --include-value'))).toBe(true);
});

test('cdk-nag runs at every synth (bin/app.ts) and reports no failure', () => {
  const report = JSON.parse(readFileSync(join(work, 'cdk.out', 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{ conclusion: string }>;
  };
  expect(report.pluginReports.filter((r) => r.conclusion !== 'success')).toEqual([]);
});
