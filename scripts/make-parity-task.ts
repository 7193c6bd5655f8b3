/**
 * The reuse worked example's data: a task the MNIST examples never saw, digit parity (even or odd),
 * built from the held-out digits only, so that none of them trained the base. A seeded shuffle of the
 * 1,505 held-out digits gives 500 labelled training examples and 1,005 eval examples, written as JSON
 * Lines for `modelship finetune`:
 *
 *   npm run example:parity -- OUT_DIR      (writes OUT_DIR/train.jsonl and OUT_DIR/eval.jsonl)
 *
 * Pixels are written with 9 significant digits, which give back exactly float32(uint8 / 255), the value
 * the example models were trained on.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { SeededRandom } from '../lib/package/seeded-random';
import { writeDataAtomically } from '../lib/util/atomic-file';
import { loadSplit } from './mnist-training';

export const PARITY_LABELS = ['even', 'odd'] as const;
export const PARITY_TRAIN = 500;
export const PARITY_SEED = 7;

/** The JSON Lines of the train and eval sets, and each set's digits, in file order. */
export function parityTask(): { train: string; eval: string; trainDigits: number[]; evalDigits: number[] } {
  const { evalSet } = loadSplit();
  const order = Array.from({ length: evalSet.count }, (_, i) => i);
  new SeededRandom(PARITY_SEED).shuffle(order);
  const line = (i: number) =>
    JSON.stringify({
      input: Array.from(evalSet.pixels.subarray(i * 784, (i + 1) * 784), (v) => Number((v / 255).toPrecision(9))),
      label: PARITY_LABELS[evalSet.labels[i] % 2],
    });
  const trainRows = order.slice(0, PARITY_TRAIN);
  const evalRows = order.slice(PARITY_TRAIN);
  return {
    train: `${trainRows.map(line).join('\n')}\n`,
    eval: `${evalRows.map(line).join('\n')}\n`,
    trainDigits: trainRows.map((i) => evalSet.labels[i]),
    evalDigits: evalRows.map((i) => evalSet.labels[i]),
  };
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('make-parity-task')
    .description('write the digit-parity fine-tuning task (500 train, 1,005 eval) as JSON Lines')
    .argument('<dir>', 'where train.jsonl and eval.jsonl go')
    .parse(argv);
  const dir = program.processedArgs[0] as string;
  const task = parityTask();
  await writeDataAtomically(path.join(dir, 'train.jsonl'), Buffer.from(task.train));
  await writeDataAtomically(path.join(dir, 'eval.jsonl'), Buffer.from(task.eval));
  console.log(`wrote ${PARITY_TRAIN} training and ${task.evalDigits.length} eval examples to ${dir}`);
}

if (require.main === module) {
  main(process.argv).catch((err: Error) => {
    process.stderr.write(`make-parity-task: ${err.message}\n`);
    process.exitCode = 1;
  });
}
