/**
 * The compression examples' data: the example models' own split (scripts/mnist-training.ts), as
 * labelled JSON Lines for --data and --eval:
 *
 *   npm run example:digits -- OUT_DIR      (writes OUT_DIR/train.jsonl, 8,495 digits, and OUT_DIR/held-out.jsonl, 1,505)
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { writeDataAtomically } from '../lib/util/atomic-file';
import { digitsJsonl, loadSplit } from './mnist-training';

async function main(argv: string[]): Promise<void> {
  const program = new Command('make-digit-data')
    .description("write the example models' training and held-out digits as labelled JSON Lines")
    .argument('<dir>', 'where train.jsonl and held-out.jsonl go')
    .parse(argv);
  const dir = program.processedArgs[0] as string;
  const { train, evalSet } = loadSplit();
  await writeDataAtomically(path.join(dir, 'train.jsonl'), Buffer.from(digitsJsonl(train)));
  await writeDataAtomically(path.join(dir, 'held-out.jsonl'), Buffer.from(digitsJsonl(evalSet)));
  console.log(`wrote ${train.count} training and ${evalSet.count} held-out digits to ${dir}`);
}

main(process.argv).catch((err: Error) => {
  process.stderr.write(`make-digit-data: ${err.message}\n`);
  process.exitCode = 1;
});
