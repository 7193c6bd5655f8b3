import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../lib/package/hash';
import { readManifest } from '../../lib/package/manifest';
import { PackageError } from '../../lib/package/errors';
import { writeTritonRepository } from '../../lib/triton';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] ^= 0xff;
  writeFileSync(path, bytes);
}

describe('writeTritonRepository', () => {
  test('writes <name>/config.pbtxt, <name>/warmup/input-0 and <name>/1/model.onnx, the model a byte-for-byte copy', async () => {
    // GIVEN a package
    const { dir } = await makeTinyMlpPackage();
    const out = tempDir();
    // WHEN its repository is written
    const repo = await writeTritonRepository(dir, out);
    // THEN the repository holds exactly the config and version 1 of the model
    expect(repo.modelDir).toBe(join(out, 'tiny-mlp'));
    expect(readdirSync(out)).toEqual(['tiny-mlp']);
    expect(readdirSync(join(out, 'tiny-mlp')).sort()).toEqual(['1', 'config.pbtxt', 'warmup']);
    expect(readdirSync(join(out, 'tiny-mlp', '1'))).toEqual(['model.onnx']);
    expect(readdirSync(join(out, 'tiny-mlp', 'warmup'))).toEqual(['input-0']);
    expect(repo.warmupFiles).toEqual([join(out, 'tiny-mlp', 'warmup', 'input-0')]);
    const model = readFileSync(join(out, 'tiny-mlp', '1', 'model.onnx'));
    expect(model.equals(readFileSync(join(dir, 'model.onnx')))).toBe(true);
    expect(sha256(model)).toBe(readManifest(dir).model.sha256);
    expect(readFileSync(repo.configPath, 'utf8')).toBe(repo.configText);
  });

  test('a tampered model is refused and nothing is written', async () => {
    // GIVEN a package whose model has one byte changed after packaging
    const { dir } = await makeTinyMlpPackage();
    flipByte(join(dir, 'model.onnx'), 40);
    const out = tempDir();
    // WHEN its repository is written
    const writing = writeTritonRepository(dir, out);
    // THEN it is refused for its sha256, and the output directory is left empty
    await expect(writing).rejects.toThrow(PackageError);
    await expect(writeTritonRepository(dir, out)).rejects.toThrow(/sha256 [0-9a-f]{64} but the manifest says [0-9a-f]{64}/);
    expect(readdirSync(out)).toEqual([]);
  });

  test('a model of another size is refused before it is read', async () => {
    const { dir } = await makeTinyMlpPackage();
    writeFileSync(join(dir, 'model.onnx'), Buffer.concat([readFileSync(join(dir, 'model.onnx')), Buffer.from([0])]));
    await expect(writeTritonRepository(dir, tempDir())).rejects.toThrow(/bytes but the manifest says/);
  });

  test('an existing model directory is refused, and replaced whole with overwrite', async () => {
    // GIVEN an output that already has the model, with a stale version 2 Triton would serve
    const { dir } = await makeTinyMlpPackage();
    const out = tempDir();
    await writeTritonRepository(dir, out);
    mkdirSync(join(out, 'tiny-mlp', '2'));
    // WHEN it is written again without overwrite, THEN it is refused and left alone
    await expect(writeTritonRepository(dir, out)).rejects.toThrow(/already exists/);
    expect(existsSync(join(out, 'tiny-mlp', '2'))).toBe(true);
    // WHEN it is written with overwrite, THEN the stale version is gone
    await writeTritonRepository(dir, out, { overwrite: true });
    expect(readdirSync(join(out, 'tiny-mlp')).sort()).toEqual(['1', 'config.pbtxt', 'warmup']);
  });

  test('overwrite keeps the old repository when the new model is refused', async () => {
    const { dir } = await makeTinyMlpPackage();
    const out = tempDir();
    await writeTritonRepository(dir, out);
    flipByte(join(dir, 'model.onnx'), 40);
    await expect(writeTritonRepository(dir, out, { overwrite: true })).rejects.toThrow(PackageError);
    expect(readdirSync(out)).toEqual(['tiny-mlp']);
    expect(existsSync(join(out, 'tiny-mlp', '1', 'model.onnx'))).toBe(true);
  });

  test('never replaces the package it reads from', async () => {
    // GIVEN a package directory named like its model, and its parent as the output
    const parent = tempDir();
    const { dir } = await makeTinyMlpPackage(parent, { name: 'tiny-mlp', version: '1.0.0' });
    const packageDir = join(parent, 'tiny-mlp');
    renameSync(dir, packageDir);
    // WHEN the repository would land on it, even with overwrite, THEN it is refused
    await expect(writeTritonRepository(packageDir, parent, { overwrite: true })).rejects.toThrow(/holds the package/);
    expect(existsSync(join(packageDir, 'modelship.json'))).toBe(true);
  });
});
