/**
 * `modelship invoke` as a user runs it: the built CLI in a child process against a local server that
 * accepts an API key and SigV4 access keys (the CLI takes SigV4 credentials from the standard AWS chain,
 * here the environment).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { tempDir } from '../helpers/fixtures';
import { isolatedCliEnv } from '../helpers/cli-env';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'modelship.js');
const MNIST = join(ROOT, 'models', 'mnist-mlp');
const SAMPLE = join(MNIST, 'samples', '0.request.json');
const API_KEY = 'invoke-cli-api-key-0123456789abcdef';
const ACCESS_KEY_ID = 'AKIAINVOKECLI0000001';
const SECRET = 'invoke-cli-secret-0123456789abcdefghijklm';
const execFileP = promisify(execFile);

let running: RunningServer;
let home: string;
const golden = JSON.parse(readFileSync(join(MNIST, 'samples', '0.response.json'), 'utf8')) as {
  outputs: Array<{ name: string; datatype: string; shape: number[]; data: number[] }>;
};

async function modelship(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = isolatedCliEnv(home);
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [CLI, 'invoke', ...args], { env: { ...base, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function expectGoldenJson(stdout: string): void {
  const r = JSON.parse(stdout) as {
    model_name: string;
    model_version: string;
    outputs: Array<{ name: string; datatype: string; shape: number[]; data: number[] }>;
  };
  expect([r.model_name, r.model_version]).toEqual(['mnist-mlp', '1.0.0']);
  expect(r.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([['probabilities', 'FP32', [3, 10]]]);
  golden.outputs[0].data.forEach((expected, i) =>
    expect(Math.abs(r.outputs[0].data[i] - expected)).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(expected)),
  );
}

beforeAll(async () => {
  home = tempDir('modelship-invoke-');
  running = await startServer({
    dirs: [MNIST],
    port: 0,
    config: parseServerConfig({
      plans: { standard: { rateLimit: 1000, burstLimit: 1000 } },
      apiKeys: [{ name: 'cli', value: API_KEY, plan: 'standard' }],
      sigv4: { region: 'eu-west-1', credentials: [{ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, plan: 'standard' }] },
    }),
  });
});

afterAll(() => running.close());

test('GIVEN an API key WHEN the golden sample is invoked as JSON and as binary THEN both print the recorded probabilities', async () => {
  const json = await modelship(['--url', running.url, '--model', 'mnist-mlp', '--data', `@${SAMPLE}`, '--api-key', API_KEY]);
  const binary = await modelship([`${running.url}/v2/models/mnist-mlp/infer`, '--data', `@${SAMPLE}`, '--binary'], {
    MODELSHIP_API_KEY: API_KEY,
  });
  expect([json.code, binary.code]).toEqual([0, 0]);
  expectGoldenJson(json.stdout);
  expect(JSON.parse(binary.stdout)).toEqual(JSON.parse(json.stdout));
});

test('GIVEN --sigv4 with credentials in the environment WHEN invoked THEN 200; with a wrong secret THEN exit 1 with the server message', async () => {
  const args = ['--url', running.url, '--model', 'mnist-mlp', '--data', `@${SAMPLE}`, '--sigv4', '--region', 'eu-west-1'];
  const ok = await modelship(args, { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET });
  const bad = await modelship(args, { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: 'wrong-secret-0123456789abcdefghijklmnop' });

  expect(ok.code).toBe(0);
  expectGoldenJson(ok.stdout);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toMatch(
    /^modelship: POST \/v2\/models\/mnist-mlp\/infer answered 401: SigV4 signature does not match: check the secret access key, and that nothing was changed after signing$/m,
  );
});

test('GIVEN --metadata WHEN invoked THEN the model metadata', async () => {
  const r = await modelship(['--url', running.url, '--model', 'mnist-mlp', '--metadata', '--api-key', API_KEY]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({
    name: 'mnist-mlp',
    versions: ['1.0.0'],
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }],
  });
});

// A command line that cannot work is a usage error (exit 2); a call the server refuses is exit 1.
test.each<[string, (url: string) => string[], number, RegExp]>([
  [
    'no server',
    () => ['--model', 'mnist-mlp', '--data', '{}'],
    2,
    /^modelship: no server: give --url \(or MODELSHIP_URL\), or a full URL/m,
  ],
  [
    'two auth kinds',
    (url) => ['--url', url, '--model', 'm', '--data', '{}', '--api-key', 'k', '--sigv4'],
    2,
    /^modelship: give one of --api-key, --bearer and --sigv4, not --sigv4 and --api-key$/m,
  ],
  [
    'a body without inputs',
    (url) => ['--url', url, '--model', 'm', '--data', '{"x":1}'],
    2,
    /^modelship: --data is not a v2 infer request: it needs an "inputs" array$/m,
  ],
  [
    'an unknown model',
    (url) => ['--url', url, '--api-key', API_KEY, '--model', 'nope', '--data', `@${SAMPLE}`],
    1,
    /^modelship: POST \/v2\/models\/nope\/infer answered 404: unknown model 'nope'; this server has: mnist-mlp$/m,
  ],
])('GIVEN %s WHEN invoked THEN exit %i with one line saying so', async (_what, args, code, message) => {
  const r = await modelship(args(running.url));
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test('GIVEN MODELSHIP_URL and MODELSHIP_API_KEY set but empty WHEN invoked THEN they count as unset: exit 2 asking for a server', async () => {
  const r = await modelship(['--model', 'mnist-mlp', '--data', `@${SAMPLE}`], { MODELSHIP_URL: '', MODELSHIP_API_KEY: '' });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^modelship: no server: give --url \(or MODELSHIP_URL\)/m);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});
