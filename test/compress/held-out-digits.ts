/** The example models' held-out digits (scripts/mnist-training.ts's split, 1,505 examples) as a labelled JSON Lines eval file. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digitsJsonl, loadSplit } from '../../scripts/mnist-training';

export function writeHeldOutDigits(dir: string, rows?: number): string {
  const file = join(dir, 'held-out.jsonl');
  writeFileSync(file, digitsJsonl(loadSplit().evalSet, rows));
  return file;
}
