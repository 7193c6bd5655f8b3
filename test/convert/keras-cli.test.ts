/**
 * The CLI with Keras files, as a user runs it: `modelship convert model.keras` and `modelship package
 * model.keras`, through the built CLI. Failures are one `modelship:` line, exit 1, and nothing written.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readManifest } from '../../lib/package/manifest';
import { verifyPackage } from '../../lib/package/verify';
import { tempDir } from '../helpers/fixtures';

const ROOT = join(__dirname, '..', 'fixtures', 'keras');
const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  // tfjs's pure-JS backend prints a banner suggesting tfjs-node; it is not an error.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('modelship:'))
    .join('\n');
  return { status: r.status, stdout: r.stdout, stderr, rawStderr: r.stderr };
}

interface RecordedTensor {
  name: string;
  shape: number[];
  data: number[];
}

test('convert model.keras writes an ONNX model that answers as Keras did, and reports the check', async () => {
  const out = join(tempDir(), 'two-inputs.onnx');
  const r = cli('convert', join(ROOT, 'two-inputs', 'model.keras'), '--out', out);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/from Keras 3\.\d+\.\d+ \.keras to .*two-inputs\.onnx/);
  expect(r.stdout).toMatch(/inputs: {2}a FP32\[-1,6\], b FP32\[-1,4\]/);
  expect(r.stdout).toMatch(/checked 32 inputs against tfjs: max \|diff\| \d\.\d\de-\d+/);
  const io = JSON.parse(readFileSync(join(ROOT, 'two-inputs', 'io.json'), 'utf8')) as {
    inputs: RecordedTensor[];
    outputs: RecordedTensor[];
  };
  const session = await ort.InferenceSession.create(out);
  try {
    const result = await session.run(
      Object.fromEntries(io.inputs.map((t) => [t.name, new ort.Tensor('float32', Float32Array.from(t.data), t.shape)])),
    );
    for (const o of io.outputs) {
      const data = result[o.name].data as Float32Array;
      expect(Math.max(...o.data.map((v, i) => Math.abs(v - data[i])))).toBeLessThanOrEqual(1e-5);
    }
  } finally {
    await session.release();
  }
});

test('convert a .weights.h5 takes --config, and says so when it is missing', () => {
  const dir = tempDir();
  const missing = cli('convert', join(ROOT, 'mlp', 'model.weights.h5'), '--out', join(dir, 'a.onnx'));
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/^modelship: .*holds weights only; give the model's config .* --config FILE$/);
  expect(missing.rawStderr).not.toMatch(/\n\s+at /);
  expect(existsSync(join(dir, 'a.onnx'))).toBe(false);
  const given = cli(
    'convert',
    join(ROOT, 'mlp', 'model.weights.h5'),
    '--config',
    join(ROOT, 'mlp', 'config.json'),
    '--out',
    join(dir, 'b.onnx'),
  );
  expect(given.status).toBe(0);
  expect(given.stdout).toMatch(/from Keras \(version not recorded\) \.weights\.h5/);
});

test('a Lambda layer is refused in one line, nothing is written, and its code never runs', () => {
  const { marker } = JSON.parse(readFileSync(join(ROOT, 'lambda-layer', 'io.json'), 'utf8')) as { marker: string };
  const out = join(tempDir(), 'evil.onnx');
  const r = cli('convert', join(ROOT, 'lambda-layer', 'model.keras'), '--out', out);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^modelship: .*layer 'evil' \(Lambda\) is a Lambda layer, which holds Python code/);
  expect(r.rawStderr).not.toMatch(/\n\s+at /);
  expect(existsSync(out)).toBe(false);
  expect(existsSync(marker)).toBe(false);
});

test('package model.keras converts, packages, and records the source file in the manifest', async () => {
  const out = join(tempDir(), 'mlp');
  const file = join(ROOT, 'mlp', 'model.keras');
  const r = cli('package', file, '--name', 'keras-mlp', '--version', '1.0.0', '--out', out);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/converted .*model\.keras \(Keras 3\.\d+\.\d+\) to ONNX/);
  const manifest = readManifest(out);
  expect(manifest.source).toEqual({
    format: 'keras',
    container: 'keras',
    kerasVersion: (JSON.parse(readFileSync(join(ROOT, 'mlp', 'io.json'), 'utf8')) as { kerasVersion: string }).kerasVersion,
    sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
  });
  expect(manifest.inputs.map((t) => t.name)).toEqual(['features']);
  expect(manifest.outputs.map((t) => t.name)).toEqual(['probabilities']);
  const report = await verifyPackage(out);
  expect(report.problems).toEqual([]);
  expect(report.samplesChecked).toBe(2);
});

test('package of a Keras model the converter cannot take leaves nothing behind', () => {
  const dir = tempDir();
  // An LSTM that also returns its state gives three outputs, which the converter refuses by layer.
  const config = JSON.parse(readFileSync(join(ROOT, 'lstm-last', 'config.json'), 'utf8')) as {
    config: { layers: Array<{ config: Record<string, unknown> }> };
  };
  const lstm = config.config.layers.find((l) => l.config.name === 'lstm')!;
  lstm.config.return_state = true;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const out = join(dir, 'lstm');
  const r = cli(
    'package',
    join(ROOT, 'lstm-last', 'model.weights.h5'),
    '--config',
    join(dir, 'config.json'),
    '--name',
    'lstm',
    '--version',
    '1.0.0',
    '--out',
    out,
  );
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^modelship: .*layer 'lstm' \(LSTM\) gives 3 outputs/);
  expect(existsSync(out)).toBe(false);
});
