/**
 * SIGKILL at many points during `modelship package` and `modelship pull` (the real CLI, in a child
 * process). Nothing can clean up after a SIGKILL, so this checks what the write order alone guarantees:
 * each time, the out directory is exactly what it was before (absent, or the old package byte for byte)
 * or a complete package that verifyPackage accepts, once the next run's recovery has run; and nothing
 * new is ever visible beside it except hidden temporary siblings, which that recovery removes.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyPackage } from '../../lib/package/verify';
import { publishPackage } from '../../lib/registry';
import { recoverInterruptedWrite } from '../../lib/util/atomic-dir';
import { makeTinyMlpPackage, tempDir, tinyMlpOnnx } from '../helpers/fixtures';
import { BUCKET, S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from '../registry/s3-server';
import { killPoints, runCli, type KillPoint } from './kill-harness';
import { sameFiles, siblingsOf, snapshot } from './snapshot';
import { isolatedCliEnv } from '../helpers/cli-env';

jest.setTimeout(180_000);

type Outcome = 'as-before' | 'new';

/**
 * Checks one killed run: before recovery nothing new is visible (only `out` and hidden siblings), and
 * `out`, if there, is the old package or a complete new one; after recovery `out` is the old package (or
 * absent) or a new package that verifies as `version`, and no sibling is left.
 */
async function check(
  out: string,
  before: Map<string, Buffer> | undefined,
  version: string,
): Promise<{ outcome: Outcome; midWrite: boolean }> {
  const parent = join(out, '..');
  const visible = readdirSync(parent).filter((n) => !n.startsWith('.'));
  expect(visible.filter((n) => n !== 'out')).toEqual([]);
  const midWrite = siblingsOf(out).length > 0;
  const seen = snapshot(out);

  await recoverInterruptedWrite(out);

  expect(siblingsOf(out)).toEqual([]);
  const after = snapshot(out);
  // Recovery only ever brings an aside copy back to an empty place; a directory that was there stays.
  if (seen !== undefined) expect(sameFiles(after, seen)).toBe(true);
  if (sameFiles(after, before)) return { outcome: 'as-before', midWrite };
  const report = await verifyPackage(out);
  expect(report.problems).toEqual([]);
  expect(report.manifest?.version).toBe(version);
  return { outcome: 'new', midWrite };
}

describe('modelship package, killed with SIGKILL', () => {
  let work: string;
  let model: string;
  let oldPackage: string;

  beforeAll(async () => {
    work = tempDir('modelship-kill-package-');
    model = join(work, 'new.onnx');
    writeFileSync(model, tinyMlpOnnx(2));
    mkdirSync(join(work, 'old'));
    oldPackage = (await makeTinyMlpPackage(join(work, 'old'), { version: '1.0.0', seed: 1 })).dir;
  });

  function args(out: string): string[] {
    return ['package', model, '--name', 'tiny-mlp', '--version', '2.0.0', '--out', out, '--force'];
  }

  /** A fresh parent holding only `out`: the old package, or nothing. */
  function fresh(i: number, withOld: boolean): string {
    const parent = join(work, `run-${withOld ? 'force' : 'new'}-${i}`);
    mkdirSync(parent);
    const out = join(parent, 'out');
    if (withOld) cpSync(oldPackage, out, { recursive: true });
    return out;
  }

  test.each([
    ['replacing an old package with --force', 12, true],
    ['into a missing out directory', 4, false],
  ])('GIVEN %s WHEN killed at %i spread points THEN out is as it was, or the new package, whole', async (_what, count, withOld) => {
    // One whole run: it must succeed, and says how long the write takes here.
    const whole = fresh(-1, withOld);
    const ended = await runCli(args(whole), { watchDir: join(whole, '..') });
    expect(ended.stderr).toBe('');
    expect((await check(whole, undefined, '2.0.0')).outcome).toBe('new');
    const outcomes: { outcome: Outcome; midWrite: boolean; point: KillPoint }[] = [];
    for (const [i, point] of killPoints(count, ended.writeMs).entries()) {
      const out = fresh(i, withOld);
      const before = snapshot(out);
      await runCli(args(out), { point, watchDir: join(out, '..') });
      outcomes.push({ ...(await check(out, before, '2.0.0')), point });
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
    // The kill on the first change in the parent (the temporary sibling appearing) lands while the
    // package is being written, so at least one run must have been cut mid-write.
    expect(outcomes.some((o) => o.midWrite)).toBe(true);
  });
});

describe('modelship pull, killed with SIGKILL', () => {
  let s3: LocalS3;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const registry = `s3://${BUCKET}/kill`;

  beforeAll(async () => {
    s3 = await startLocalS3();
    work = tempDir('modelship-kill-pull-');
    mkdirSync(join(work, 'published'));
    const pkg = await makeTinyMlpPackage(join(work, 'published'), { version: '1.0.0' });
    await publishPackage({ client: s3.client, registry, dir: pkg.dir, now: () => new Date('2026-05-01T12:00:00.000Z') });
    env = isolatedCliEnv(work, {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    });
  });

  afterAll(() => s3.close());

  function args(out: string): string[] {
    return ['pull', 'tiny-mlp@1.0.0', '--registry', registry, '--out', out, '--endpoint-url', s3.endpoint];
  }

  function fresh(i: number): string {
    const parent = join(work, `run-${i}`);
    mkdirSync(parent);
    return join(parent, 'out');
  }

  test('GIVEN a published package WHEN a pull is killed at 15 spread points THEN out is absent, or the package, whole', async () => {
    const whole = fresh(-1);
    const ended = await runCli(args(whole), { env, watchDir: join(whole, '..') });
    expect(ended.code).toBe(0);
    expect((await check(whole, undefined, '1.0.0')).outcome).toBe('new');
    const outcomes: { outcome: Outcome; midWrite: boolean; point: KillPoint }[] = [];
    for (const [i, point] of killPoints(15, ended.writeMs).entries()) {
      const out = fresh(i);
      await runCli(args(out), { env, point, watchDir: join(out, '..') });
      outcomes.push({ ...(await check(out, undefined, '1.0.0')), point });
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
    expect(outcomes.some((o) => o.midWrite)).toBe(true);
  });
});
