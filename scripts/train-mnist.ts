/**
 * Trains the example MNIST MLP (784 -> Dense 100 relu -> Dense 10 softmax) with pure-JS tfjs,
 * converts it to ONNX, measures it with onnxruntime on a fixed held-out split, writes that split
 * as a test fixture and packages the model into models/mnist-mlp.
 *
 *   npx tsc -p . && node dist/scripts/train-mnist.js [--work DIR] [--epochs N] [--force]
 *
 * Everything is seeded, so two runs give the same weights, the same ONNX bytes and the same accuracy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../lib/package/seeded-random';
import { fileSaver } from '../lib/convert/tfjs-file-io';
import { convertTfjsModelFile } from '../lib/convert/tfjs-to-onnx';
import { createPackage } from '../lib/package/create';
import { sha256 } from '../lib/package/hash';
import { MANIFEST_FILE, readManifest } from '../lib/package/manifest';

const PIXELS = 784;
const CLASSES = 10;
const TRAIN_FRACTION = 0.85;
/** The gate the package tests apply; a model below it is not packaged. */
const MIN_ACCURACY = 0.92;
const SPLIT_RULE = `mnist@1.1.0 npm package (10,000 digits): for each digit d in 0..9, samples i < floor(${TRAIN_FRACTION} * mnist[d].length) `
  + 'train and the rest are held out for eval; eval is ordered by digit, then by index; '
  + 'pixels are stored as round(x * 255) and fed to the model as float32(uint8 / 255)';

interface MnistDigit {
  readonly length: number;
  get(i: number): number[];
}

interface Dataset {
  /** uint8 pixels, row-major [count, 784] */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

interface Options {
  work: string;
  epochs: number;
  batch: number;
  seed: number;
  out: string;
  fixture: string;
  force: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function parseOptions(argv: string[]): Options {
  const program = new Command('train-mnist')
    .description('train, convert, check and package the mnist-mlp example model')
    .option('--work <dir>', 'where the tfjs model and model.onnx are written (default: a new temp dir)')
    .option('--epochs <n>', 'training epochs', positiveInt, 12)
    .option('--batch <n>', 'batch size', positiveInt, 64)
    .option('--seed <n>', 'seed for initializers and shuffling', positiveInt, 42)
    .option('--out <dir>', 'package directory', 'models/mnist-mlp')
    .option('--fixture <file>', 'where the held-out eval set is written', 'test/fixtures/mnist-eval.json')
    .option('--force', 'replace an existing package that holds a different model', false)
    .parse(argv);
  const o = program.opts<Omit<Options, 'work'> & { work?: string }>();
  return { ...o, work: o.work ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-mlp-')) };
}

/** The fixed split: per digit, the first 85% of samples train, the rest are held out. */
function loadSplit(): { train: Dataset; evalSet: Dataset } {
  // mnist ships no types; its digit objects are plain { length, get(i) }.
  const mnist = require('mnist') as MnistDigit[];
  const train: Array<[number[], number]> = [];
  const held: Array<[number[], number]> = [];
  for (let d = 0; d < CLASSES; d++) {
    const n = mnist[d].length;
    const cut = Math.floor(TRAIN_FRACTION * n);
    // get(i) picks a random sample when i is out of range, so stay strictly inside [0, n).
    for (let i = 0; i < n; i++) (i < cut ? train : held).push([mnist[d].get(i), d]);
  }
  const pack = (rows: Array<[number[], number]>): Dataset => {
    const pixels = new Uint8Array(rows.length * PIXELS);
    rows.forEach(([x], r) => x.forEach((v, j) => { pixels[r * PIXELS + j] = Math.round(v * 255); }));
    return { pixels, labels: Uint8Array.from(rows.map(([, y]) => y)), count: rows.length };
  };
  return { train: pack(train), evalSet: pack(held) };
}

/** The model's input: exactly float32(uint8 / 255), as the fixture's reader will compute it. */
function toFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

function buildModel(seed: number): tf.Sequential {
  return tf.sequential({
    name: 'mnist_mlp',
    layers: [
      tf.layers.dense({
        inputShape: [PIXELS], units: 100, activation: 'relu', name: 'hidden',
        kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: 'zeros',
      }),
      tf.layers.dense({
        units: CLASSES, activation: 'softmax', name: 'classifier',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: 'zeros',
      }),
    ],
  });
}

function argmaxRows(probs: ArrayLike<number>, rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (probs[r * CLASSES + c] > probs[r * CLASSES + best]) best = c;
    out.push(best);
  }
  return out;
}

function accuracy(predicted: number[], labels: Uint8Array): number {
  return predicted.filter((p, i) => p === labels[i]).length / labels.length;
}

async function train(model: tf.Sequential, data: Dataset, opts: Options, evalSet: Dataset): Promise<void> {
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  const x = toFloat(data.pixels);
  const random = new SeededRandom(opts.seed);
  const order = Array.from({ length: data.count }, (_, i) => i);
  const batches = Math.ceil(data.count / opts.batch);
  const evalX = tf.tensor2d(toFloat(evalSet.pixels), [evalSet.count, PIXELS]);
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      random.shuffle(order);
      const bar = new SingleBar({
        format: `epoch ${String(epoch).padStart(2)}/${opts.epochs} |{bar}| {value}/{total} batches | loss {loss} | {duration}s`,
        hideCursor: true,
      }, Presets.shades_classic);
      bar.start(batches, 0, { loss: '-' });
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const idx = order.slice(b * opts.batch, (b + 1) * opts.batch);
        const xb = new Float32Array(idx.length * PIXELS);
        const yb = new Float32Array(idx.length * CLASSES);
        idx.forEach((s, r) => {
          xb.set(x.subarray(s * PIXELS, (s + 1) * PIXELS), r * PIXELS);
          yb[r * CLASSES + data.labels[s]] = 1;
        });
        const xs = tf.tensor2d(xb, [idx.length, PIXELS]);
        const ys = tf.tensor2d(yb, [idx.length, CLASSES]);
        const loss = (await model.trainOnBatch(xs, ys)) as number;
        tf.dispose([xs, ys]);
        lossSum += loss;
        bar.update(b + 1, { loss: (lossSum / (b + 1)).toFixed(4) });
      }
      bar.stop();
      const probs = tf.tidy(() => (model.predict(evalX) as tf.Tensor).dataSync());
      console.log(`  eval accuracy (tfjs) after epoch ${epoch}: ${accuracy(argmaxRows(probs, evalSet.count), evalSet.labels).toFixed(4)}`);
    }
  } finally {
    evalX.dispose();
  }
}

async function onnxAccuracy(onnxPath: string, evalSet: Dataset): Promise<number> {
  const session = await ort.InferenceSession.create(onnxPath);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', toFloat(evalSet.pixels), [evalSet.count, PIXELS]) });
    return accuracy(argmaxRows(out.probabilities.data as Float32Array, evalSet.count), evalSet.labels);
  } finally {
    await session.release();
  }
}

function writeFixture(file: string, evalSet: Dataset): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fixture = {
    split: SPLIT_RULE,
    count: evalSet.count,
    labels: Array.from(evalSet.labels),
    pixels: Buffer.from(evalSet.pixels).toString('base64'),
  };
  fs.writeFileSync(file, `${JSON.stringify(fixture)}\n`);
}

/** Golden samples: one batch-3 request of the first held-out 7, 2 and 1. */
function goldenRequest(evalSet: Dataset) {
  const picks = [7, 2, 1].map((d) => evalSet.labels.indexOf(d));
  const data = picks.flatMap((r) => Array.from(evalSet.pixels.subarray(r * PIXELS, (r + 1) * PIXELS), (v) => v / 255));
  return {
    id: 'mnist-eval-7-2-1',
    inputs: [{ name: 'input', shape: [picks.length, PIXELS], datatype: 'FP32' as const, data }],
  };
}

async function packageModel(onnxPath: string, evalSet: Dataset, opts: Options): Promise<void> {
  if (fs.existsSync(path.join(opts.out, MANIFEST_FILE))) {
    const existing = readManifest(opts.out);
    if (existing.model.sha256 === sha256(fs.readFileSync(onnxPath)) && !opts.force) {
      console.log(`${opts.out} already holds this exact model (sha256 ${existing.model.sha256}); left unchanged`);
      return;
    }
    if (!opts.force) {
      throw new Error(`${opts.out} holds a different model (sha256 ${existing.model.sha256}); packages are immutable, pass --force to replace it`);
    }
  }
  const manifest = await createPackage({
    modelPath: onnxPath,
    name: 'mnist-mlp',
    version: '1.0.0',
    outDir: opts.out,
    target: 'cpu',
    description: 'MNIST digit classifier: 784 pixels (row-major 28x28, values 0..1) -> Dense 100 relu -> Dense 10 softmax. '
      + 'Trained with tfjs on the mnist npm package by scripts/train-mnist.ts.',
    samples: [goldenRequest(evalSet)],
    labels: Array.from({ length: CLASSES }, (_, d) => String(d)),
    force: opts.force,
  });
  console.log(`packaged ${manifest.name}@${manifest.version} into ${opts.out} (sha256 ${manifest.model.sha256})`);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv);
  await tf.setBackend('cpu');
  // Production mode only silences tfjs' "install tfjs-node" banner here; the pure-JS backend is the point.
  tf.enableProdMode();

  const { train: trainSet, evalSet } = loadSplit();
  console.log(`split: ${trainSet.count} train / ${evalSet.count} eval digits (${SPLIT_RULE})`);

  const model = buildModel(opts.seed);
  const started = Date.now();
  await train(model, trainSet, opts, evalSet);
  const seconds = (Date.now() - started) / 1000;
  console.log(`trained ${opts.epochs} epochs of batch ${opts.batch} in ${seconds.toFixed(1)} s`);

  await model.save(fileSaver(opts.work));
  const onnxPath = path.join(opts.work, 'model.onnx');
  const check = await convertTfjsModelFile(path.join(opts.work, 'model.json'), onnxPath, {
    name: 'mnist-mlp', inputName: 'input', outputName: 'probabilities', inputRange: [0, 1],
  });
  console.log(`converted [${check.layers.join(', ')}] to ${onnxPath}; max |onnx - tfjs| over ${check.samples} samples: ${check.maxAbsDiff.toExponential(2)}`);

  const acc = await onnxAccuracy(onnxPath, evalSet);
  console.log(`eval accuracy (onnxruntime, ${evalSet.count} held-out digits): ${acc.toFixed(4)}`);
  if (acc < MIN_ACCURACY) throw new Error(`eval accuracy ${acc.toFixed(4)} is below ${MIN_ACCURACY}; not writing the fixture or the package`);

  writeFixture(opts.fixture, evalSet);
  console.log(`wrote ${evalSet.count} eval digits to ${opts.fixture}`);
  await packageModel(onnxPath, evalSet, opts);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
