/**
 * The trust policy at the CLI and local-server fronts: `serve` with a policy serves the signed package
 * and answers 503 with the reason for the others, and the built CLI's keygen, sign and verify --trust
 * print one line per outcome, exit 1 on a refusal, and never a stack.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { generateLocalKeyPair, localSigner } from '../../lib/trust/local-keys';
import { signPackage } from '../../lib/trust/sign-package';
import { trustPolicy } from '../../lib/trust/trust-policy';
import { isolatedCliEnv } from '../helpers/cli-env';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { errorMessage, send } from '../helpers/http';

const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');
const KEY = 'trust-fronts-key-0123456789abcdef';
const AUTH = { 'x-api-key': KEY };
const execFileP = promisify(execFile);

let work: string;
let signed: FixturePackage;
let unsigned: FixturePackage;
let foreign: FixturePackage;

beforeAll(async () => {
  work = tempDir('modelship-trust-fronts-');
  for (const [name, pair] of [
    ['trusted', generateLocalKeyPair('ecdsa-p256')],
    ['stranger', generateLocalKeyPair('ed25519')],
  ] as const) {
    writeFileSync(join(work, `${name}.pem`), pair.privateKeyPem);
    writeFileSync(join(work, `${name}.pub.pem`), pair.publicKeyPem);
  }
  signed = await makeTinyMlpPackage(work, { name: 'signed-mlp' });
  unsigned = await makeTinyMlpPackage(work, { name: 'unsigned-mlp', seed: 3 });
  foreign = await makeTinyMlpPackage(work, { name: 'foreign-mlp', seed: 5 });
  await signPackage(signed.dir, await localSigner(join(work, 'trusted.pem')));
  await signPackage(foreign.dir, await localSigner(join(work, 'stranger.pem')));
});

describe('serve with a trust policy', () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer({
      dirs: [signed.dir, unsigned.dir, foreign.dir],
      port: 0,
      config: parseServerConfig({
        plans: { open: { rateLimit: 1000, burstLimit: 1000 } },
        apiKeys: [{ name: 't', value: KEY, plan: 'open' }],
      }),
      trust: await trustPolicy({ publicKeyFiles: [join(work, 'trusted.pub.pem')] }),
      page: false,
    });
  });
  afterAll(() => running.close());

  test('the signed package is served', async () => {
    const body = readFileSync(join(signed.dir, 'samples/0.request.json'));
    const r = await send(`${running.url}/v2/models/signed-mlp/infer`, { headers: AUTH, body });
    expect(r.status).toBe(200);
  });

  test.each([
    ['unsigned-mlp', /signature\.json is missing: the package is unsigned/],
    ['foreign-mlp', /signature\.json: signature check failed: signed by [0-9a-f]{64}, a key the trust policy does not hold/],
  ])('%s answers 503 with the reason, naming the file inside the package only', async (name, reason) => {
    const r = await send(`${running.url}/v2/models/${name}/ready`, { headers: AUTH });
    expect(r.status).toBe(503);
    expect(errorMessage(r)).toMatch(reason);
    expect(errorMessage(r)).not.toContain(work);
  });
});

describe('the CLI', () => {
  async function modelship(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileP(process.execPath, [CLI, ...args], {
        cwd: work,
        env: isolatedCliEnv(work),
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  test('keygen writes a private key only its owner can read, and refuses to overwrite it', async () => {
    const r = await modelship(['keygen', '--out', 'cli-key']);
    expect(r.code).toBe(0);
    expect(statSync(join(work, 'cli-key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(work, 'cli-key.pub.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await modelship(['keygen', '--out', 'cli-key']);
    expect({ code: again.code, stderr: again.stderr }).toEqual({
      code: 1,
      stderr: 'modelship: cli-key.pem exists; pass --force to replace the key pair\n',
    });
  });

  test('sign then verify --trust: ok; verify with another key: FAIL naming the check, exit 1, no stack', async () => {
    const pkg = await makeTinyMlpPackage(tempDir(), { name: 'cli-mlp' });
    expect((await modelship(['sign', pkg.dir, '--key', 'trusted.pem'])).stdout).toMatch(
      /^signed cli-mlp@1\.0\.0: 6 files, key [0-9a-f]{64}\n/,
    );
    const ok = await modelship(['verify', pkg.dir, '--trust', 'trusted.pub.pem']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(
      `ok   ${pkg.dir}: cli-mlp@1.0.0, sha256 matches, 2 golden sample(s) reproduce, signed by trusted.pub.pem (6 files)`,
    );
    const bad = await modelship(['verify', pkg.dir, '--trust', 'stranger.pub.pem']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^FAIL .*:\n {2}- .*signature\.json: signature check failed: signed by [0-9a-f]{64}, a key the trust policy does not hold/,
    );
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  test('sign with neither or both key options is a usage error, exit 2', async () => {
    const r = await modelship(['sign', signed.dir]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: 'modelship: sign needs exactly one of --key KEY.pem and --kms-key-id ARN\n',
    });
  });
});
