import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPackage } from '../../lib/package/create';
import { sha256 } from '../../lib/package/hash';
import { readManifest } from '../../lib/package/manifest';
import { verifyPackage } from '../../lib/package/verify';
import { allTypesOnnx, makeTinyMlpPackage, tempDir, tinyMlpOnnx } from '../helpers/fixtures';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');

/** A golden response file, writable: tests nudge its numbers. */
interface GoldenFile {
  outputs: Array<{ name: string; shape: number[]; data: number[] }>;
}

const readGolden = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as GoldenFile;

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] ^= 0xff;
  writeFileSync(path, bytes);
}

describe('createPackage', () => {
  test('reads inputs and outputs from onnxruntime, with symbolic dimensions as -1', async () => {
    // GIVEN a model whose batch dimension is symbolic
    const { dir } = await makeTinyMlpPackage();
    // WHEN it is packaged
    const m = readManifest(dir);
    // THEN the manifest holds what onnxruntime reports
    expect(m.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]);
    expect(m.outputs).toEqual([
      { name: 'logits', datatype: 'FP32', shape: [-1, 3] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ]);
    expect(m.framework).toEqual({ name: 'onnx', opset: 13 });
    expect(m.target).toBe('cpu');
  });

  test('records the size and sha256 of the model', async () => {
    const onnx = tinyMlpOnnx(3);
    const parent = tempDir();
    writeFileSync(join(parent, 'm.onnx'), onnx);
    const m = await createPackage({ modelPath: join(parent, 'm.onnx'), name: 'm', version: '2.1.0', outDir: join(parent, 'pkg') });
    expect(m.model).toEqual({ file: 'model.onnx', bytes: onnx.byteLength, sha256: sha256(onnx) });
    expect(readFileSync(join(parent, 'pkg', 'model.onnx')).equals(Buffer.from(onnx))).toBe(true);
  });

  test('synthetic golden samples are deterministic: the same model packages to the same files', async () => {
    const a = await makeTinyMlpPackage(tempDir());
    const b = await makeTinyMlpPackage(tempDir());
    for (const f of [
      'modelship.json',
      'samples/0.request.json',
      'samples/0.response.json',
      'samples/1.request.json',
      'samples/1.response.json',
    ]) {
      expect(readFileSync(join(a.dir, f), 'utf8')).toBe(readFileSync(join(b.dir, f), 'utf8'));
    }
  });

  test('records the samples a user gives, with the outputs the model gave', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'm.onnx'), tinyMlpOnnx());
    const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [2, 4], data: [1, 0, 0, 0, 0, 0, 0, 1] }] };
    const m = await createPackage({
      modelPath: join(parent, 'm.onnx'),
      name: 'm',
      version: '1.0.0',
      outDir: join(parent, 'pkg'),
      samples: [request],
    });
    expect(m.samples).toEqual([
      { request: 'samples/0.request.json', response: 'samples/0.response.json', tolerance: { FP32: { atol: 1e-4, rtol: 1e-3 } } },
    ]);
    expect(JSON.parse(readFileSync(join(parent, 'pkg', 'samples/0.request.json'), 'utf8'))).toEqual(request);
    const response = readGolden(join(parent, 'pkg', 'samples/0.response.json'));
    expect(response.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['logits', [2, 3]],
      ['probabilities', [2, 3]],
    ]);
    const probs = response.outputs[1].data;
    expect(probs.slice(0, 3).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });

  test('refuses samples that do not fit the model, naming the input', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'm.onnx'), tinyMlpOnnx());
    await expect(
      createPackage({
        modelPath: join(parent, 'm.onnx'),
        name: 'm',
        version: '1.0.0',
        outDir: join(parent, 'pkg'),
        samples: [{ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }],
      }),
    ).rejects.toThrow(/sample 0 was refused.*input 'x': shape \[1,3\]/);
  });

  test('refuses a bad name or version with the schema message', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'm.onnx'), tinyMlpOnnx());
    const base = { modelPath: join(parent, 'm.onnx'), outDir: join(parent, 'pkg') };
    await expect(createPackage({ ...base, name: 'Bad_Name', version: '1.0.0' })).rejects.toThrow(/name: must be DNS-safe/);
    await expect(createPackage({ ...base, name: 'ok', version: 'v1' })).rejects.toThrow(/version: must be a semantic version/);
  });

  test('never overwrites a package unless forced', async () => {
    const { dir } = await makeTinyMlpPackage();
    const parent = tempDir();
    writeFileSync(join(parent, 'm.onnx'), tinyMlpOnnx(9));
    await expect(createPackage({ modelPath: join(parent, 'm.onnx'), name: 'tiny-mlp', version: '1.0.0', outDir: dir })).rejects.toThrow(
      /already holds a package/,
    );
    const m = await createPackage({ modelPath: join(parent, 'm.onnx'), name: 'tiny-mlp', version: '1.0.0', outDir: dir, force: true });
    expect(m.model.sha256).toBe(sha256(tinyMlpOnnx(9)));
  });

  test('packages every datatype', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'a.onnx'), allTypesOnnx());
    const m = await createPackage({ modelPath: join(parent, 'a.onnx'), name: 'a', version: '1.0.0', outDir: join(parent, 'pkg') });
    expect(m.inputs.map((i) => i.datatype)).toEqual([
      'BOOL',
      'UINT8',
      'UINT16',
      'UINT32',
      'UINT64',
      'INT8',
      'INT16',
      'INT32',
      'INT64',
      'FP16',
      'FP32',
      'FP64',
      'BYTES',
    ]);
    expect((await verifyPackage(join(parent, 'pkg'))).ok).toBe(true);
  });
});

describe('verifyPackage', () => {
  test('passes a fresh package and re-runs every golden sample', async () => {
    const { dir } = await makeTinyMlpPackage();
    const report = await verifyPackage(dir);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.samplesChecked).toBe(2);
  });

  test('fails when one byte of the model changes, naming the file and sha256', async () => {
    const { dir } = await makeTinyMlpPackage();
    flipByte(join(dir, 'model.onnx'), 200);
    const report = await verifyPackage(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.stringMatching(
        /model\.onnx has sha256 [0-9a-f]{64} but the manifest says [0-9a-f]{64}: the model has been tampered with or changed since it was packaged/,
      ),
    ]);
  });

  test('fails when a golden answer differs, naming the file, sample, output, element and difference', async () => {
    const { dir } = await makeTinyMlpPackage();
    const path = join(dir, 'samples/1.response.json');
    const golden = readGolden(path);
    golden.outputs[1].data[2] += 0.01;
    writeFileSync(path, JSON.stringify(golden));
    const report = await verifyPackage(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(
      /samples\/1\.request\.json: output 'probabilities' differs in 1 of 3 elements; first at element 2: got [\d.e-]+, expected [\d.e-]+ \(\|diff\| 0\.0100 > tolerance/,
    );
  });

  test('fails a sample that asks for binary outputs, which a golden file cannot hold', async () => {
    // GIVEN a package whose first sample request was edited to ask for binary tensor data back
    const { dir } = await makeTinyMlpPackage();
    const path = join(dir, 'samples/0.request.json');
    writeFileSync(
      path,
      JSON.stringify({ ...(JSON.parse(readFileSync(path, 'utf8')) as object), parameters: { binary_data_output: true } }),
    );
    // WHEN it is verified THEN that sample is the one problem, and says why
    const report = await verifyPackage(dir);
    expect(report.problems).toEqual([
      `${path}: the sample asks for binary outputs; golden samples are recorded and compared as JSON, so drop binary_data from it`,
    ]);
    expect(report.samplesChecked).toBe(2);
  });

  test('a difference inside the tolerance passes', async () => {
    const { dir } = await makeTinyMlpPackage();
    const path = join(dir, 'samples/0.response.json');
    const golden = readGolden(path);
    golden.outputs[0].data[0] += 1e-6;
    writeFileSync(path, JSON.stringify(golden));
    expect((await verifyPackage(dir)).ok).toBe(true);
  });

  test('fails a manifest that breaks the schema, naming the field', async () => {
    const { dir } = await makeTinyMlpPackage();
    const path = join(dir, 'modelship.json');
    const m = JSON.parse(readFileSync(path, 'utf8')) as { inputs: Array<{ datatype: string }> };
    m.inputs[0].datatype = 'FLOAT';
    writeFileSync(path, JSON.stringify(m));
    const report = await verifyPackage(dir);
    expect(report.problems[0]).toMatch(/modelship\.json is not a valid manifest: inputs\.0\.datatype/);
  });

  test('the CLI exits non-zero and prints the problem; zero for a good package', async () => {
    const good = await makeTinyMlpPackage();
    const bad = await makeTinyMlpPackage(tempDir());
    flipByte(join(bad.dir, 'model.onnx'), 100);
    const ok = await run(process.execPath, [CLI, 'verify', good.dir]);
    expect(ok.stdout).toMatch(/^ok {3}.*tiny-mlp@1\.0\.0, sha256 matches, 2 golden sample\(s\) reproduce/);
    const failed = await run(process.execPath, [CLI, 'verify', bad.dir]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/FAIL .*\n {2}- .*model\.onnx has sha256/);
  });
});
