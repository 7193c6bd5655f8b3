/** The example models' held-out digits (scripts/mnist-training.ts's split, 1,505 examples) as a labelled JSON Lines eval file. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSplit } from '../../scripts/mnist-training';

export function writeHeldOutDigits(dir: string, rows?: number): string {
  const { evalSet } = loadSplit();
  const n = Math.min(rows ?? evalSet.count, evalSet.count);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      input: Array.from(evalSet.pixels.subarray(i * 784, (i + 1) * 784), (v) => Number((v / 255).toPrecision(9))),
      label: evalSet.labels[i],
    }),
  );
  const file = join(dir, 'held-out.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
