/**
 * `prune` and `distill` on the example MNIST MLP, run as a user runs them (the CLI in a child process,
 * where tfjs trains several times faster than inside jest), seeded, on the 8,495 training digits and
 * judged on the 1,505 held-out ones: the size and accuracy targets of README.md's "Compression" table,
 * a pruned graph that is genuinely smaller, a student with the teacher's signature, and clear refusals.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePlainModel, floatValues } from '../../lib/onnx/plain-model';
import { sha256 } from '../../lib/package/hash';
import { readManifest } from '../../lib/package/manifest';
import { verifyPackage } from '../../lib/package/verify';
import { digitsJsonl, loadSplit } from '../../scripts/mnist-training';
import { isolatedCliEnv } from '../helpers/cli-env';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { writeHeldOutDigits } from './held-out-digits';

jest.setTimeout(300_000);

const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');
const MLP = join(__dirname, '..', '..', 'models', 'mnist-mlp');
const dir = tempDir('modelship-train-compress-');
const evalFile = writeHeldOutDigits(dir);
const trainFile = join(dir, 'train.jsonl');
writeFileSync(trainFile, digitsJsonl(loadSplit().train));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: isolatedCliEnv(tempDir()) });
}

interface Report {
  bytesRatio: number;
  accuracyDrop: number;
  baseFigures: { accuracy: number };
  figures: { accuracy: number };
}
const report = (out: string) => JSON.parse(readFileSync(join(out, 'compression.json'), 'utf8')) as Report;

test('prune --sparsity 0.5: half the hidden units go, the file is at most 55% of fp32, and held-out accuracy is within 1.0 pt', async () => {
  const out = join(dir, 'pruned');
  const r = cli('prune', MLP, '--sparsity', '0.5', '--data', trainFile, '--eval', evalFile, '--epochs', '2', '--out', out);
  expect(r.stderr).not.toContain('modelship:');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('  pruned       hidden/Gemm 100 -> 50');
  const f = report(out);
  expect(f.bytesRatio).toBeLessThanOrEqual(0.55);
  expect(f.baseFigures.accuracy).toBeCloseTo(1414 / 1505, 10);
  expect(f.accuracyDrop).toBeLessThanOrEqual(1.0);
  const g = decodePlainModel(readFileSync(join(out, 'model.onnx'))).graph;
  const dims = Object.fromEntries(g.initializer.map((t) => [t.name, t.dims]));
  expect(dims).toEqual({ 'hidden/kernel': [784, 50], 'hidden/bias': [50], 'classifier/kernel': [50, 10], 'classifier/bias': [10] });
  const m = readManifest(out);
  expect(m.version).toBe('1.0.0-pruned');
  expect(m.compression).toMatchObject({ method: 'prune', parameters: { sparsity: 0.5, epochs: 2, seed: 42, examples: 8495 } });
  expect(m.inputs).toEqual(readManifest(MLP).inputs);
  expect((await verifyPackage(out)).ok).toBe(true);
});

test('distill --student pool:2;dense:48: the student is at most 15% of the teacher, within 1.5 pt on held-out digits, with its signature', async () => {
  const out = join(dir, 'student');
  // The gate set to the target: the default 1.0 pt would refuse this student.
  const r = cli(
    'distill',
    MLP,
    '--student',
    'pool:2;dense:48',
    '--data',
    trainFile,
    '--eval',
    evalFile,
    '--max-accuracy-drop',
    '1.5',
    '--out',
    out,
  );
  expect(r.stderr).not.toContain('modelship:');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('  student      pool:2;dense:48 at temperature 2');
  const f = report(out);
  expect(f.bytesRatio).toBeLessThanOrEqual(0.15);
  expect(f.accuracyDrop).toBeLessThanOrEqual(1.5);
  const m = readManifest(out);
  const teacher = readManifest(MLP);
  expect([m.inputs, m.outputs]).toEqual([teacher.inputs, teacher.outputs]);
  expect(m.compression).toMatchObject({
    method: 'distill',
    parameters: { student: 'pool:2;dense:48', temperature: 2, epochs: 10, learningRate: 0.003 },
  });
  // Packaged at temperature 1: its answers are probabilities on the teacher's scale.
  const g = decodePlainModel(readFileSync(join(out, 'model.onnx'))).graph;
  expect(Array.from(floatValues(g.initializer.find((t) => t.name === 'student/temperature')!))).toEqual([1]);
  const golden = JSON.parse(readFileSync(join(out, m.samples[0].response), 'utf8')) as { outputs: Array<{ data: number[] }> };
  expect(golden.outputs[0].data.slice(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  expect((await verifyPackage(out)).ok).toBe(true);
});

test('distill learns from unlabelled inputs: a data file with no labels at all', () => {
  const unlabelled = join(dir, 'unlabelled.jsonl');
  const lines = readFileSync(trainFile, 'utf8').split('\n').slice(0, 300);
  writeFileSync(unlabelled, `${lines.map((l) => JSON.stringify({ input: (JSON.parse(l) as { input: number[] }).input })).join('\n')}\n`);
  const out = join(dir, 'unlabelled-student');
  const r = cli(
    'distill',
    MLP,
    '--student',
    'dense:8',
    '--data',
    unlabelled,
    '--eval',
    evalFile,
    '--epochs',
    '1',
    '--max-accuracy-drop',
    '100',
    '--out',
    out,
  );
  expect(r.stderr).not.toContain('modelship:');
  expect(r.status).toBe(0);
  expect(readManifest(out).compression?.parameters.examples).toBe(300);
});

describe('bad input', () => {
  const refused = (r: ReturnType<typeof cli>, message: RegExp) => {
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(1);
  };

  test('a student spec that does not parse names what is wrong and how to write it', () => {
    const out = join(dir, 'never');
    refused(
      cli('distill', MLP, '--student', 'dense:32;conv:8', '--data', trainFile, '--eval', evalFile, '--out', out),
      /^modelship: --student 'dense:32;conv:8': conv layers come before dense ones; write it as dense:32, dense:64,32, conv:8,16;dense:32 or pool:2;dense:48$/m,
    );
    refused(
      cli('distill', MLP, '--student', 'wide:9', '--data', trainFile, '--eval', evalFile, '--out', out),
      /'wide:9' is not pool:K or KIND:WIDTH/,
    );
    expect(existsSync(out)).toBe(false);
  });

  test('a model with no prunable layer (its one Gemm makes the output) is refused, and a sparsity of 1 too', async () => {
    const tiny = await makeTinyMlpPackage(tempDir());
    const out = join(dir, 'never-pruned');
    const tinyData = join(dir, 'tiny.jsonl');
    writeFileSync(tinyData, [0, 1, 2, 0].map((label, i) => JSON.stringify({ input: [i, 1, 0, -i], label })).join('\n'));
    refused(
      cli('prune', tiny.dir, '--sparsity', '0.5', '--data', tinyData, '--eval', tinyData, '--out', out),
      /^modelship: the model has no prunable layer: no Gemm, MatMul or Conv whose output reaches exactly one other through activations and pools; nothing was written$/m,
    );
    refused(
      cli('prune', MLP, '--sparsity', '1', '--data', trainFile, '--eval', evalFile, '--out', out),
      /--sparsity 1: give a fraction of units to remove, above 0 and below 1/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

test('Ctrl-C while prune --force trains leaves nothing behind, and the package it was replacing is intact', async () => {
  // The output already holds a package, which --force will replace only once the new one is whole.
  const out = join(dir, 'replaced');
  expect(cli('quantize', MLP, '--mode', 'fp16', '--out', out).status).toBe(0);
  const before = { listing: readdirSync(dir).sort(), model: sha256(readFileSync(join(out, 'model.onnx'))) };
  const child = spawn(
    process.execPath,
    [CLI, 'prune', MLP, '--sparsity', '0.5', '--data', trainFile, '--eval', evalFile, '--epochs', '200', '--force', '--out', out],
    { env: isolatedCliEnv(tempDir()) },
  );
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/epoch +1\/200/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  expect(code).toBe(130);
  expect(stderr).toMatch(/modelship: interrupted by SIGINT/);
  expect(readdirSync(dir).sort()).toEqual(before.listing);
  expect(sha256(readFileSync(join(out, 'model.onnx')))).toBe(before.model);
  expect(readManifest(out).compression?.method).toBe('fp16');
  expect((await verifyPackage(out)).ok).toBe(true);
});
