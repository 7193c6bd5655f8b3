/**
 * The reuse worked example (README, "Reuse: fine-tune, transfer, extract"): digit parity, a task the
 * example models never saw, learnt from 500 held-out digits and measured on the other 1,005 with
 * three figures: mnist-cnn as it is (its digit, even or odd), mnist-cnn transferred (a new 2-class head,
 * its dense layer and the head fine-tuned), and the same architecture trained from scratch on the same
 * 500 examples for the same epochs.
 *
 *   npm run example:reuse -- OUT_DIR [--json]
 *
 * Everything is seeded: a rerun gives the same three figures and the same packages.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { finetune } from '../lib/reuse/finetune';
import { writeDataAtomically } from '../lib/util/atomic-file';
import { parityTask, PARITY_LABELS } from './make-parity-task';

const BASE = path.join(__dirname, '..', '..', 'models', 'mnist-cnn');
export const EXAMPLE_EPOCHS = 10;

async function baseAccuracy(evalLines: string, digits: readonly number[]): Promise<number> {
  const session = await ort.InferenceSession.create(path.join(BASE, 'model.onnx'));
  try {
    const rows = evalLines
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { input: number[] }).input);
    const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 28, 28, 1]);
    const probs = (await session.run({ input: x })).probabilities.data as Float32Array;
    const correct = rows.filter((_, r) => {
      const row = Array.from(probs.subarray(r * 10, r * 10 + 10));
      return row.indexOf(Math.max(...row)) % 2 === digits[r] % 2;
    }).length;
    return correct / rows.length;
  } finally {
    await session.release();
  }
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('reuse-example')
    .description('fine-tune mnist-cnn to digit parity and compare it with the base and with training from scratch')
    .argument('<dir>', 'where the data and the two packages go')
    .option('--json', 'print the figures as JSON', false)
    .parse(argv);
  const dir = program.processedArgs[0] as string;
  const json = program.opts<{ json: boolean }>().json;
  // Production mode: the pure-JS backend otherwise prints a banner recommending tfjs-node.
  tf.env().set('PROD', true);
  const task = parityTask();
  const data = path.join(dir, 'train.jsonl');
  const evalFile = path.join(dir, 'eval.jsonl');
  await writeDataAtomically(data, task.train);
  await writeDataAtomically(evalFile, task.eval);
  const common = {
    base: BASE,
    data,
    eval: evalFile,
    version: '1.0.0',
    newHead: 2,
    labels: [...PARITY_LABELS],
    epochs: EXAMPLE_EPOCHS,
    seed: 42,
  };
  const base = await baseAccuracy(task.eval, task.evalDigits);
  const tuned = await finetune({ ...common, name: 'parity-cnn', out: path.join(dir, 'parity-cnn'), trainLast: 2 });
  const scratch = await finetune({ ...common, name: 'parity-scratch', out: path.join(dir, 'parity-scratch'), fromScratch: true });
  const figures = {
    train: task.trainDigits.length,
    eval: task.evalDigits.length,
    base,
    fineTuned: tuned.metric.value,
    fromScratch: scratch.metric.value,
    fineTunedSeconds: tuned.durationMs / 1000,
    fromScratchSeconds: scratch.durationMs / 1000,
  };
  if (json) {
    console.log(JSON.stringify(figures));
    return;
  }
  console.log(`digit parity, ${figures.train} training and ${figures.eval} held-out digits, ${EXAMPLE_EPOCHS} epochs:`);
  console.log(`  mnist-cnn as it is (its digit, even or odd): ${base.toFixed(4)}`);
  console.log(
    `  fine-tuned from mnist-cnn (new head, dense layer and head trained): ${tuned.metric.value.toFixed(4)} in ${figures.fineTunedSeconds.toFixed(1)} s`,
  );
  console.log(`  the same architecture from scratch: ${scratch.metric.value.toFixed(4)} in ${figures.fromScratchSeconds.toFixed(1)} s`);
}

if (require.main === module) {
  main(process.argv).catch((err: Error) => {
    process.stderr.write(`reuse-example: ${err.message}\n`);
    process.exitCode = 1;
  });
}
