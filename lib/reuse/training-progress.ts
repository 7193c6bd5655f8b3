/** Training progress on stderr for the commands that train (finetune, prune, distill). */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { TrainingListener } from './training-loop';

/** One bar per epoch on a terminal; on a pipe, one line per epoch so logs stay short. */
export function trainingProgress(): TrainingListener & { stop(): void } {
  const tty = process.stderr.isTTY;
  const bars = tty
    ? new MultiBar(
        { format: 'epoch {epoch} |{bar}| {value}/{total} batches | loss {loss} | {evaluation}', stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  let bar: SingleBar | undefined;
  let label = '';
  return {
    epochStart(epoch, epochs, batches) {
      label = `${String(epoch).padStart(String(epochs).length)}/${epochs}`;
      bar = bars?.create(batches, 0, { epoch: label, loss: '-', evaluation: '' });
    },
    batchEnd(batch, loss) {
      bar?.update(batch, { loss: loss.toFixed(4) });
    },
    epochEnd(_epoch, r) {
      const evaluation = `eval loss ${r.evalLoss.toFixed(4)}${r.evalAccuracy !== undefined ? `, accuracy ${r.evalAccuracy.toFixed(4)}` : ''}`;
      if (bar) bar.update({ evaluation });
      else process.stderr.write(`epoch ${label}: loss ${r.trainLoss.toFixed(4)} | ${evaluation}\n`);
    },
    stop: () => bars?.stop(),
  };
}
