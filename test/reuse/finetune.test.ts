/**
 * `finetune` and `extract` on the example models: the README's worked example (digit parity, a task
 * mnist-cnn never saw, from 500 held-out digits), determinism, lineage, the base left untouched, the
 * refusals of a bad base and bad data, and extract's features against the base graph's own.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConversionError } from '../../lib/convert/errors';
import { encodeOnnxModel } from '../../lib/convert/onnx-builder';
import { createPackage } from '../../lib/package/create';
import { PackageError } from '../../lib/package/errors';
import { sha256 } from '../../lib/package/hash';
import { readManifest } from '../../lib/package/manifest';
import { modelMetadata } from '../../lib/protocol/responses';
import { verifyPackage } from '../../lib/package/verify';
import { packageFiles } from '../../lib/registry/package-tarball';
import { extractPackage } from '../../lib/reuse/extract';
import { finetune, TRAINING_REPORT } from '../../lib/reuse/finetune';
import { buildTrainableView } from '../../lib/reuse/trainable-view';
import type { Clock } from '../../lib/util/clock';
import { tempDir } from '../helpers/fixtures';
import { writeDigitData } from './digit-data';

const MODELS = join(__dirname, '..', '..', 'models');

function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = sha256(readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}

test('the worked example: fine-tuned from mnist-cnn beats the same architecture trained from scratch by more than 5 points', () => {
  // The README's command, in a process of its own: tfjs trains several times faster outside jest's VM context.
  const dir = tempDir();
  const run = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'scripts', 'reuse-example.js'), dir, '--json'], {
    encoding: 'utf8',
    timeout: 400_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const figures = JSON.parse(run.stdout) as { train: number; eval: number; base: number; fineTuned: number; fromScratch: number };
  expect([figures.train, figures.eval]).toEqual([500, 1005]);
  // The figures of the seeded run, as the README gives them, in correct digits of 1,005.
  expect(Math.round(figures.base * 1005)).toBe(976);
  expect(Math.round(figures.fineTuned * 1005)).toBe(952);
  expect(Math.round(figures.fromScratch * 1005)).toBe(893);
  expect(figures.fineTuned).toBeGreaterThanOrEqual(figures.fromScratch + 0.05);

  const tuned = join(dir, 'parity-cnn');
  const manifest = readManifest(tuned);
  expect(manifest.derivedFrom).toEqual({
    name: 'mnist-cnn',
    version: '1.0.0',
    modelSha256: readManifest(join(MODELS, 'mnist-cnn')).model.sha256,
  });
  expect(manifest.training).toEqual({
    dataSha256: sha256(readFileSync(join(dir, 'train.jsonl'))),
    examples: 500,
    epochs: 10,
    seed: 42,
    metric: { name: 'accuracy', value: figures.fineTuned },
  });
  expect(manifest.outputs).toEqual([{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }]);
  expect(manifest.reports).toEqual([TRAINING_REPORT]);
  expect(packageFiles(manifest)).toContain(TRAINING_REPORT);
  expect(JSON.parse(readFileSync(join(tuned, 'labels.json'), 'utf8'))).toEqual(['even', 'odd']);
  const report = JSON.parse(readFileSync(join(tuned, TRAINING_REPORT), 'utf8')) as {
    history: unknown[];
    trainedLayers: string[];
    frozenLayers: string[];
  };
  expect(report.history).toHaveLength(10);
  expect(report.trainedLayers).toEqual(['hidden/Gemm', 'new_head/Gemm']);
  expect(report.frozenLayers).toEqual(['conv1/Conv', 'conv2/Conv']);
}, 420_000);

/** A clock that moves `step` ms each time it is read. */
function steppingClock(step: number): Clock {
  let t = 0;
  return { now: () => (t += step) };
}

describe('finetune of mnist-mlp (its own task, the last layer)', () => {
  test('the same data and seed give byte-identical model, manifest and samples; the base is never written', async () => {
    const dir = tempDir();
    const files = writeDigitData(dir, 200, 300);
    const baseDir = join(dir, 'base');
    cpSync(join(MODELS, 'mnist-mlp'), baseDir, { recursive: true });
    const before = treeHashes(baseDir);
    const run = (out: string, clock: Clock) =>
      finetune({ base: baseDir, ...files, name: 'mnist-mlp', version: '1.1.0', out: join(dir, out), trainLast: 1, epochs: 2, clock });
    const first = await run('a', steppingClock(1000));
    await run('b', steppingClock(3000));
    const a = treeHashes(join(dir, 'a'));
    const b = treeHashes(join(dir, 'b'));
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const file of Object.keys(a).filter((f) => f !== TRAINING_REPORT)) expect([file, a[file]]).toEqual([file, b[file]]);
    // Only the report carries the timing.
    expect(a[TRAINING_REPORT]).not.toBe(b[TRAINING_REPORT]);
    expect(treeHashes(baseDir)).toEqual(before);
    expect(first.metric.base).toBeGreaterThan(0.9);
    expect(first.frozenLayers).toEqual(['hidden/Gemm']);
    // The lineage shows in the model's metadata, as every front serves it.
    const manifest = readManifest(join(dir, 'a'));
    expect(modelMetadata(manifest, ['1.1.0']).parameters?.derivedFrom).toEqual({
      name: 'mnist-mlp',
      version: '1.0.0',
      modelSha256: readManifest(baseDir).model.sha256,
    });
    expect(manifest.preprocess).toEqual(readManifest(baseDir).preprocess);
  }, 120_000);

  test('a base whose model does not match its sha256 is refused before anything trains', async () => {
    const dir = tempDir();
    const files = writeDigitData(dir, 200, 300);
    const baseDir = join(dir, 'base');
    cpSync(join(MODELS, 'mnist-mlp'), baseDir, { recursive: true });
    const model = readFileSync(join(baseDir, 'model.onnx'));
    model[model.length - 10] ^= 0xff;
    writeFileSync(join(baseDir, 'model.onnx'), model);
    const err = await finetune({ base: baseDir, ...files, name: 'x', version: '1.0.0', out: join(dir, 'out') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageError);
    expect((err as Error).message).toMatch(/does not verify, so nothing was trained[\s\S]*sha256/);
    expect(readdirSync(dir).sort()).toEqual(['base', 'eval.jsonl', 'train.jsonl']);
  });

  test.each([
    ['a wrong shape', '{"input": [0.5, 0.5], "label": 1}', /train\.jsonl:1: input 'input' has 2 value\(s\); the model takes 784/],
    [
      'a string value',
      `{"input": [${new Array(783).fill(0).join(',')}, "x"], "label": 1}`,
      /train\.jsonl:1: input 'input' value 783 is "x", not a number/,
    ],
    [
      'a label out of range',
      `{"input": [${new Array(784).fill(0).join(',')}], "label": 10}`,
      /train\.jsonl:1: label 10 is out of range: a class index 0-9/,
    ],
    [
      'an unknown label name',
      `{"input": [${new Array(784).fill(0).join(',')}], "label": "eleven"}`,
      /train\.jsonl:1: label "eleven" is not one of the model's labels/,
    ],
    ['a line that is not JSON', '{"input": [', /train\.jsonl:1: not JSON/],
    ['no examples', '\n\n', /train\.jsonl: no examples/],
    [
      'one class only',
      `{"input": [${new Array(784).fill(0).join(',')}], "label": 3}\n{"input": [${new Array(784).fill(1).join(',')}], "label": 3}`,
      /every example has the same label \(3\)/,
    ],
  ])('training data with %s is refused, naming the file and line', async (_what, contents, reason) => {
    const dir = tempDir();
    const files = writeDigitData(dir, 200, 300);
    writeFileSync(files.data, contents);
    const err = await finetune({ base: join(MODELS, 'mnist-mlp'), ...files, name: 'x', version: '1.0.0', out: join(dir, 'out') }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConversionError);
    expect((err as Error).message).toMatch(reason);
  });

  test.each([
    ['NaN in a feature', 'label,a,b\n1,0.5,NaN\n', /train\.csv:2: column 'b' is "NaN", not a number/],
    ['no label column', 'a,b\n0.5,0.5\n', /the header has no 'label' column/],
    ['a short row', 'label,a,b\n1,0.5\n', /train\.csv:2: 2 column\(s\); the header has 3/],
  ])('CSV with %s is refused, naming the file and line', async (_what, contents, reason) => {
    const dir = tempDir();
    const files = writeDigitData(dir, 200, 300);
    writeFileSync(join(dir, 'train.csv'), contents);
    const err = await finetune({
      base: join(MODELS, 'mnist-mlp'),
      data: join(dir, 'train.csv'),
      eval: files.eval,
      name: 'x',
      version: '1.0.0',
      out: join(dir, 'out'),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConversionError);
    expect((err as Error).message).toMatch(reason);
  });

  test('CSV of flat features trains like JSON Lines', async () => {
    const dir = tempDir();
    const files = writeDigitData(dir, 200, 300);
    const rows = readFileSync(files.data, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { input: number[]; label: number });
    const header = ['label', ...rows[0].input.map((_, i) => `p${i}`)].join(',');
    writeFileSync(join(dir, 'train.csv'), `${header}\n${rows.map((r) => [r.label, ...r.input].join(',')).join('\n')}\n`);
    const fromCsv = await finetune({
      base: join(MODELS, 'mnist-mlp'),
      data: join(dir, 'train.csv'),
      eval: files.eval,
      name: 'x',
      version: '1.0.0',
      out: join(dir, 'csv'),
      trainLast: 1,
      epochs: 1,
    });
    await finetune({
      base: join(MODELS, 'mnist-mlp'),
      ...files,
      name: 'x',
      version: '1.0.0',
      out: join(dir, 'jsonl'),
      trainLast: 1,
      epochs: 1,
    });
    expect(fromCsv.examples).toBe(200);
    expect(readManifest(join(dir, 'csv')).model.sha256).toBe(readManifest(join(dir, 'jsonl')).model.sha256);
  }, 60_000);
});

test('extract on mnist-cnn gives the features the base graph computes at that tensor, as a package of its own', async () => {
  const dir = tempDir();
  const base = join(MODELS, 'mnist-cnn');
  const manifest = await extractPackage({
    base,
    output: 'hidden',
    name: 'mnist-cnn-features',
    version: '1.0.0',
    out: join(dir, 'features'),
  });
  expect(manifest.outputs).toEqual([{ name: 'hidden', datatype: 'FP32', shape: [-1, 64] }]);
  expect(manifest.extraction).toEqual({ tensor: 'hidden/Relu' });
  expect(manifest.derivedFrom).toEqual({ name: 'mnist-cnn', version: '1.0.0', modelSha256: readManifest(base).model.sha256 });
  expect((await verifyPackage(join(dir, 'features'))).ok).toBe(true);

  const request = JSON.parse(readFileSync(join(base, 'samples', '0.request.json'), 'utf8')) as {
    inputs: Array<{ shape: number[]; data: number[] }>;
  };
  const [input] = request.inputs;
  const session = await ort.InferenceSession.create(join(dir, 'features', 'model.onnx'));
  const features = (await session.run({ input: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) })).hidden
    .data as Float32Array;
  await session.release();
  // The base graph run to the same tensor, in the trainable view.
  const view = buildTrainableView(readFileSync(join(base, 'model.onnx')), 'mnist-cnn');
  const layer = view.model.layers.find((l) => l.name === 'hidden_Relu')!;
  const probe = tf.model({ inputs: view.model.inputs, outputs: layer.output });
  const expected = tf.tidy(() => Array.from((probe.predict(tf.tensor(input.data, input.shape)) as tf.Tensor).dataSync()));
  view.dispose();
  expect(features).toHaveLength(3 * 64);
  expect(Math.max(...expected.map((v, i) => Math.abs(v - features[i])))).toBeLessThanOrEqual(1e-5);
  expect(features.some((v) => v > 0)).toBe(true);
});

test('extract names the layers it knows when asked for one that is not there', async () => {
  await expect(
    extractPackage({ base: join(MODELS, 'mnist-cnn'), output: 'nope', name: 'x', version: '1.0.0', out: join(tempDir(), 'x') }),
  ).rejects.toThrow(
    /'nope' is neither a tensor nor a layer of the model; its layers are downsample, conv1, pool1, conv2, flatten, hidden, classifier/,
  );
});

describe('finetune: early stopping and regression', () => {
  test('--early-stop stops when the eval loss stops falling and keeps the best epoch', async () => {
    const dir = tempDir();
    const files = writeDigitData(dir);
    // A learning rate this high makes the eval loss climb after the first epochs.
    const report = await finetune({
      base: join(MODELS, 'mnist-mlp'),
      ...files,
      name: 'x',
      version: '1.0.0',
      out: join(dir, 'out'),
      epochs: 10,
      learningRate: 0.05,
      earlyStopPatience: 1,
    });
    const losses = report.history.map((h) => h.evalLoss);
    expect(report.epochsRun).toBeLessThan(10);
    expect(losses[report.bestEpoch - 1]).toBe(Math.min(...losses));
    expect(report.metric.value).toBe(report.history[report.bestEpoch - 1].evalAccuracy);
    expect(readManifest(join(dir, 'out')).training!.epochs).toBe(report.epochsRun);
  }, 60_000);

  test('a model whose output is not a softmax is fine-tuned as regression, on its mean squared error', async () => {
    const dir = tempDir();
    const w = Float32Array.from({ length: 8 }, (_, i) => Math.sin(i + 1));
    const onnx = encodeOnnxModel({
      name: 'linear',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 2] }],
      initializers: [
        { name: 'W', dims: [4, 2], data: w },
        { name: 'b', dims: [2], data: new Float32Array(2) },
      ],
      nodes: [{ opType: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], name: 'dense/Gemm' }],
    });
    writeFileSync(join(dir, 'linear.onnx'), onnx);
    await createPackage({ modelPath: join(dir, 'linear.onnx'), name: 'linear', version: '1.0.0', outDir: join(dir, 'base') });
    // The targets come from other weights: y = x V + 0.5.
    const v = [0.5, -1, 2, 0.25, -0.75, 1.5, 1, -0.5];
    const line = (k: number) => {
      const x = [Math.sin(k), Math.cos(k), Math.sin(2 * k), Math.cos(3 * k)];
      const target = [0, 1].map((j) => x.reduce((s, xi, i) => s + xi * v[i * 2 + j], 0.5));
      return JSON.stringify({ input: x, target });
    };
    writeFileSync(join(dir, 'train.jsonl'), Array.from({ length: 64 }, (_, k) => line(k)).join('\n'));
    writeFileSync(join(dir, 'eval.jsonl'), Array.from({ length: 32 }, (_, k) => line(k + 100)).join('\n'));
    const report = await finetune({
      base: join(dir, 'base'),
      data: join(dir, 'train.jsonl'),
      eval: join(dir, 'eval.jsonl'),
      name: 'linear',
      version: '1.1.0',
      out: join(dir, 'out'),
      epochs: 20,
      batchSize: 8,
      learningRate: 0.05,
    });
    expect(report.task).toBe('regression');
    expect(report.metric.name).toBe('loss');
    expect(report.metric.value).toBeLessThan(report.metric.base! / 10);
    expect(readManifest(join(dir, 'out')).training!.metric).toEqual(report.metric);
  }, 60_000);
});
