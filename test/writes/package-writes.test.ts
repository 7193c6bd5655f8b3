/**
 * `modelship package` never loses a package and never leaves half of one: a failed package (in process
 * and through the CLI) leaves the out directory absent or as it was, `--force` with a bad samples file
 * leaves the old package byte-identical, Ctrl-C undoes the write, and an aside copy a crash left behind
 * is restored by the next run.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OutputExistsError } from '../../lib/errors';
import { createPackage } from '../../lib/package/create';
import { PackageError } from '../../lib/package/errors';
import { verifyPackage } from '../../lib/package/verify';
import { tempDir, tinyMlpOnnx } from '../helpers/fixtures';
import { CLI, runCli } from './kill-harness';
import { deadPid, sameFiles, siblingsOf, snapshot } from './snapshot';

const exec = promisify(execFile);

async function modelship(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let work: string;
let model: string;
/** A samples file the tiny MLP refuses: 3 features where it takes 4. */
let badSamples: string;

beforeAll(() => {
  work = tempDir('modelship-package-writes-');
  model = join(work, 'model.onnx');
  writeFileSync(model, tinyMlpOnnx(3));
  badSamples = join(work, 'bad.json');
  writeFileSync(badSamples, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }));
});

/** A working 1.0.0 package, with labels, in `<fresh parent>/out`. */
async function oldPackage(): Promise<string> {
  const out = join(tempDir('modelship-package-old-'), 'out');
  await createPackage({ modelPath: model, name: 'tiny-mlp', version: '1.0.0', outDir: out, labels: ['a', 'b', 'c'] });
  return out;
}

describe('a failed package', () => {
  test('GIVEN a working package WHEN `package --force` runs with a bad samples file THEN exit 1, one line, and the old package is byte-identical', async () => {
    const out = await oldPackage();
    const before = snapshot(out);
    expect([...before!.keys()].sort()).toEqual([
      'labels.json',
      'model.onnx',
      'modelship.json',
      'samples/0.request.json',
      'samples/0.response.json',
      'samples/1.request.json',
      'samples/1.response.json',
    ]);

    const r = await modelship(
      'package',
      model,
      '--name',
      'tiny-mlp',
      '--version',
      '1.1.0',
      '--samples',
      badSamples,
      '--out',
      out,
      '--force',
    );

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^modelship: sample 0 was refused by the model: .*x.*; pass samples that fit it\n$/);
    expect(sameFiles(snapshot(out), before)).toBe(true);
    expect(siblingsOf(out)).toEqual([]);
    expect((await verifyPackage(out)).ok).toBe(true);
  });

  test('GIVEN no out directory, nor its parents WHEN the samples are refused THEN nothing is left: no out, no temporary copy, no parents', async () => {
    const parent = tempDir();

    const r = await modelship(
      'package',
      model,
      '--name',
      'tiny-mlp',
      '--version',
      '1.0.0',
      '--samples',
      badSamples,
      '--out',
      join(parent, 'a', 'b', 'out'),
    );

    expect(r.code).toBe(1);
    expect(readdirSync(parent)).toEqual([]);
  });

  test('GIVEN an empty out directory WHEN the model cannot be loaded THEN a PackageError and it stays empty', async () => {
    const out = join(tempDir(), 'out');
    mkdirSync(out);
    const notAModel = join(work, 'not-a-model.onnx');
    writeFileSync(notAModel, 'not onnx');

    await expect(createPackage({ modelPath: notAModel, name: 'tiny-mlp', version: '1.0.0', outDir: out })).rejects.toThrow(PackageError);

    expect(readdirSync(join(out, '..'))).toEqual(['out']);
    expect(readdirSync(out)).toEqual([]);
  });

  test('GIVEN a package WHEN packaged again without force THEN OutputExistsError, exit 1 from the CLI, and nothing changes', async () => {
    const out = await oldPackage();
    const before = snapshot(out);

    const err = await createPackage({ modelPath: model, name: 'tiny-mlp', version: '1.1.0', outDir: out }).catch((e: unknown) => e);
    const r = await modelship('package', model, '--name', 'tiny-mlp', '--version', '1.1.0', '--out', out);

    expect(err).toBeInstanceOf(OutputExistsError);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `modelship: ${out} already holds a package; packages are immutable, so choose a new directory or replace it with force (--force)\n`,
    );
    expect(sameFiles(snapshot(out), before)).toBe(true);
  });

  test('GIVEN a directory of other files WHEN packaged into with force THEN OutputExistsError and the files are untouched', async () => {
    const out = join(tempDir(), 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');

    const err = await createPackage({ modelPath: model, name: 'tiny-mlp', version: '1.0.0', outDir: out, force: true }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(OutputExistsError);
    expect((err as Error).message).toBe(`${out} holds files but no package; choose a new or empty directory`);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });

  test('GIVEN a working package WHEN replaced with force and good samples THEN the new one is in place, whole, and verifies', async () => {
    const out = await oldPackage();

    const manifest = await createPackage({ modelPath: model, name: 'tiny-mlp', version: '1.1.0', outDir: out, force: true });

    expect(manifest.version).toBe('1.1.0');
    const report = await verifyPackage(out);
    expect(report.problems).toEqual([]);
    expect(report.manifest?.version).toBe('1.1.0');
    // The old package's labels went with it: a replace is whole, never a merge.
    expect(readdirSync(out).sort()).toEqual(['model.onnx', 'modelship.json', 'samples']);
    expect(siblingsOf(out)).toEqual([]);
  });
});

describe('Ctrl-C', () => {
  test('GIVEN `package --force` over a working package WHEN SIGINT arrives as the new copy appears THEN exit 130, and the old package is byte-identical', async () => {
    const out = await oldPackage();
    const before = snapshot(out);
    // 40 golden samples to record, re-run and fsync keep the write going well after the signal is sent.
    const samples = join(work, 'many.json');
    writeFileSync(
      samples,
      JSON.stringify(
        Array.from({ length: 40 }, (_, i) => ({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [i, 1, 2, 3] }] })),
      ),
    );

    const ended = await runCli(
      ['package', model, '--name', 'tiny-mlp', '--version', '1.1.0', '--samples', samples, '--out', out, '--force'],
      {
        watchDir: join(out, '..'),
        point: { onEvent: 1 },
        signal: 'SIGINT',
      },
    );

    expect(ended.code).toBe(130);
    expect(ended.stderr).toBe('modelship: interrupted by SIGINT; no partial output was left\n');
    expect(sameFiles(snapshot(out), before)).toBe(true);
    // Undone by the process itself, not left for the next run.
    expect(siblingsOf(out)).toEqual([]);
  });
});

describe('an aside copy left by a crash', () => {
  /** What a SIGKILL between the two renames of a --force swap leaves: the old package aside, none in place. */
  async function crashedSwap(): Promise<{ out: string; before: Map<string, Buffer> | undefined }> {
    const out = await oldPackage();
    const before = snapshot(out);
    const aside = join(out, '..', `.out.old-${await deadPid()}-0123456789ab`);
    mkdirSync(aside);
    renameSync(out, join(aside, 'out'));
    return { out, before };
  }

  test('GIVEN only an aside copy WHEN `modelship verify` reads the package THEN it is restored, byte for byte, and verifies', async () => {
    const { out, before } = await crashedSwap();

    const r = await modelship('verify', out);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {3}.*tiny-mlp@1\.0\.0/);
    expect(sameFiles(snapshot(out), before)).toBe(true);
    expect(siblingsOf(out)).toEqual([]);
  });

  test('GIVEN only an aside copy WHEN `modelship package` runs again without --force THEN the old package is restored first, and kept', async () => {
    const { out, before } = await crashedSwap();

    const r = await modelship('package', model, '--name', 'tiny-mlp', '--version', '1.1.0', '--out', out);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds a package/);
    expect(sameFiles(snapshot(out), before)).toBe(true);
    expect(siblingsOf(out)).toEqual([]);
  });
});
