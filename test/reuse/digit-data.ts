/** Small data files for the reuse tests: held-out MNIST digits (scripts/make-parity-task.ts's split), labelled with their digit. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parityTask } from '../../scripts/make-parity-task';

const task = parityTask();

function relabel(text: string, digits: readonly number[], n: number): string {
  return text
    .trim()
    .split('\n')
    .slice(0, n)
    .map((l, i) => JSON.stringify({ ...(JSON.parse(l) as object), label: digits[i] }))
    .join('\n');
}

/** Writes train.jsonl and eval.jsonl into `dir`: the base models' own task, so their accuracy is reported. */
export function writeDigitData(dir: string, trainRows = 100, evalRows = 200): { data: string; eval: string } {
  const data = join(dir, 'train.jsonl');
  const evalFile = join(dir, 'eval.jsonl');
  writeFileSync(data, relabel(task.train, task.trainDigits, trainRows));
  writeFileSync(evalFile, relabel(task.eval, task.evalDigits, evalRows));
  return { data, eval: evalFile };
}
