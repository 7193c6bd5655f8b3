/**
 * `modelship publish | list | pull` as a user runs them: the built CLI in a child process, talking to the
 * local S3 server through --endpoint-url with credentials from the environment (the standard chain).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { BUCKET, S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from './s3-server';
import { isolatedCliEnv } from '../helpers/cli-env';

const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');
const run = promisify(execFile);

let s3: LocalS3;
let work: string;

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function modelship(...args: string[]): Promise<Outcome> {
  return modelshipWith({}, ...args);
}

async function modelshipWith(envOverride: Readonly<Record<string, string>>, ...args: string[]): Promise<Outcome> {
  const env = isolatedCliEnv(work, {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    ...envOverride,
  });
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args, '--endpoint-url', s3.endpoint], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  s3 = await startLocalS3();
  work = tempDir('modelship-registry-cli-');
});

afterAll(() => s3.close());

test('GIVEN two versions WHEN published, listed and pulled with the CLI THEN each step reports what it did, and a republish fails with exit 1', async () => {
  const registry = `s3://${BUCKET}/cli`;
  const v1 = await makeTinyMlpPackage(work, { version: '1.0.0', seed: 1 });
  const v2dir = tempDir('modelship-registry-cli-v2-');
  const v2 = await makeTinyMlpPackage(v2dir, { version: '1.10.0', seed: 2 });

  const p1 = await modelship('publish', v1.dir, '--registry', registry);
  const p2 = await modelship('publish', v2.dir, '--registry', registry);
  expect([p1.code, p2.code]).toEqual([0, 0]);
  expect(p1.stdout).toMatch(
    new RegExp(
      `^published tiny-mlp@1\\.0\\.0 to s3://${BUCKET}/cli/tiny-mlp/1\\.0\\.0/package\\.tgz\\n  tarball: \\d+ bytes, sha256 [0-9a-f]{64}\\n`,
    ),
  );

  const again = await modelship('publish', v1.dir, '--registry', registry);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(
    /^modelship: tiny-mlp@1\.0\.0 is already published at s3:\/\/models\/cli\/tiny-mlp\/1\.0\.0\/package\.tgz \(sha256 [0-9a-f]{64}\); published versions are immutable, so publish a new version$/m,
  );

  const list = await modelship('list', '--registry', registry);
  expect(list.code).toBe(0);
  const rows = list.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(/\s{2,}/));
  expect(rows.map((r) => [r[0], r[1], r[5]])).toEqual([
    ['NAME', 'VERSION', 'DERIVED FROM'],
    ['tiny-mlp', '1.0.0', undefined],
    ['tiny-mlp', '1.10.0', 'latest'],
  ]);

  const out = join(work, 'pulled');
  const pull = await modelship('pull', 'tiny-mlp@latest', '--registry', registry, '--out', out);
  expect(pull.code).toBe(0);
  expect(pull.stdout).toMatch(
    /^pulled tiny-mlp@1\.10\.0 from s3:\/\/models\/cli\/tiny-mlp\/1\.10\.0\/package\.tgz into .*\n {2}tarball: \d+ bytes, sha256 [0-9a-f]{64} \(matches the index\)\n {2}model sha256 matches the manifest; 2 golden sample\(s\) reproduce\n$/,
  );
  expect(readdirSync(out).sort()).toEqual(['model.onnx', 'modelship.json', 'samples']);
});

test('GIVEN a wrong --sha256 WHEN pulled with the CLI THEN exit 1 with an integrity message and no out dir', async () => {
  const registry = `s3://${BUCKET}/cli-sha`;
  const pkg = await makeTinyMlpPackage(tempDir('modelship-registry-cli-sha-'), { version: '2.0.0' });
  expect((await modelship('publish', pkg.dir, '--registry', registry)).code).toBe(0);
  const out = join(work, 'pulled-sha');

  const r = await modelship('pull', 'tiny-mlp@2.0.0', '--registry', registry, '--out', out, '--sha256', '0'.repeat(64));

  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(
    /^modelship: the index records sha256 [0-9a-f]{64} for tiny-mlp@2\.0\.0, but 0{64} was asked for; nothing was downloaded$/m,
  );
  expect(existsSync(out)).toBe(false);
});

test('GIVEN a malformed registry URI WHEN listed THEN exit 1 saying what is expected', async () => {
  const r = await modelship('list', '--registry', 'models/cli');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^modelship: registry "models\/cli" is not an S3 URI; expected s3:\/\/bucket or s3:\/\/bucket\/prefix$/m);
});

test('GIVEN a published model WHEN `list NAME --json` runs over HTTP THEN the index entries, and a wrong secret key fails with exit 1', async () => {
  const registry = `s3://${BUCKET}/cli-json`;
  const pkg = await makeTinyMlpPackage(tempDir('modelship-registry-cli-json-'), { name: 'json-mlp', version: '0.2.0' });
  expect((await modelship('publish', pkg.dir, '--registry', registry)).code).toBe(0);

  const r = await modelship('list', 'json-mlp', '--json', '--registry', registry);

  expect(r.code).toBe(0);
  const models = JSON.parse(r.stdout) as { name: string; latest: string; versions: { version: string; sha256: string }[] }[];
  expect(models.map((m) => [m.name, m.latest, m.versions.map((v) => v.version)])).toEqual([['json-mlp', '0.2.0', ['0.2.0']]]);
  expect(models[0].versions[0].sha256).toMatch(/^[0-9a-f]{64}$/);

  // The server checks signatures, so the listing above was signed right, and a bad key is refused.
  const denied = await modelshipWith({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, 'list', '--registry', registry);
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/^modelship: cannot list s3:\/\/models\/cli-json: SignatureDoesNotMatch \(403\): /m);
});
