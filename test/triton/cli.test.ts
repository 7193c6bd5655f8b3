import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sha256 } from '../../lib/package/hash';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { parseModelConfig } from './parse-model-config';

const exec = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('modelship triton', () => {
  test('writes the repository and the tarball with every option applied', async () => {
    // GIVEN a package
    const { dir } = await makeTinyMlpPackage();
    const out = tempDir();
    const tar = join(out, 'artifact', 'model.tar.gz');
    // WHEN the command runs with every option
    const r = await cli(
      'triton',
      dir,
      '--out',
      join(out, 'repo'),
      '--max-batch-size',
      '16',
      '--preferred-batch-sizes',
      '4, 16',
      '--queue-delay-us',
      '250',
      '--instances',
      '2',
      '--kind',
      'cpu',
      '--tar',
      tar,
    );
    // THEN it succeeds, and the files hold what was asked for
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    const config = await parseModelConfig(readFileSync(join(out, 'repo', 'tiny-mlp', 'config.pbtxt'), 'utf8'));
    expect(config.max_batch_size).toBe(16);
    expect(config.dynamic_batching).toEqual(expect.objectContaining({ preferred_batch_size: [4, 16], max_queue_delay_microseconds: 250 }));
    expect(config.instance_group).toEqual([expect.objectContaining({ count: 2, kind: 'KIND_CPU' })]);
    // AND it prints the tarball's sha256, which is the file's
    expect(r.stdout).toContain(`sha256 ${sha256(readFileSync(tar))}`);
    expect(r.stdout).toContain('max_batch_size 16, preferred [4,16], queue delay 250us, 2 x KIND_CPU');
  });

  test('a tampered package fails with one line naming the sha256, and exit code 1', async () => {
    const { dir } = await makeTinyMlpPackage();
    const model = readFileSync(join(dir, 'model.onnx'));
    model[30] ^= 0xff;
    writeFileSync(join(dir, 'model.onnx'), model);
    const r = await cli('triton', dir, '--out', tempDir());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^modelship: .*model\.onnx has sha256 [0-9a-f]{64} but the manifest says/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('bad options and an existing output fail with one clear line', async () => {
    // GIVEN a package and an output it was already written to
    const { dir } = await makeTinyMlpPackage();
    const out = tempDir();
    expect((await cli('triton', dir, '--out', out)).code).toBe(0);
    // WHEN it is written again, THEN it is refused, pointing at --force
    const again = await cli('triton', dir, '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^modelship: .*tiny-mlp already exists.*--force/);
    expect((await cli('triton', dir, '--out', out, '--force')).code).toBe(0);
    // WHEN a preferred size exceeds the maximum batch, THEN the option is named, with the usage exit code
    const bad = await cli('triton', dir, '--out', tempDir(), '--max-batch-size', '8', '--preferred-batch-sizes', '16');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('modelship: preferredBatchSizes 16 exceed maxBatchSize 8\n');
    // WHEN --kind is not gpu or cpu, THEN commander refuses it
    const kind = await cli('triton', dir, '--out', tempDir(), '--kind', 'tpu');
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/--kind/);
  });
});
