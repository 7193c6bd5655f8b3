/**
 * Trains a trainable view on a dataset, seeded and in a fixed batch order, so that the same data and
 * seed give the same weights bit for bit on the CPU backend. Reports each batch and epoch to a
 * listener (the CLI draws a progress bar), evaluates on the eval set after every epoch, and with early
 * stopping keeps the weights of the epoch with the lowest eval loss.
 */
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../package/seeded-random';
import type { Dataset, TaskKind } from './training-data';
import type { TrainableView } from './trainable-view';

export interface TrainingListener {
  epochStart?(epoch: number, epochs: number, batches: number): void;
  batchEnd?(batch: number, loss: number): void;
  epochEnd?(epoch: number, result: EpochResult): void;
}

export interface EpochResult {
  readonly trainLoss: number;
  readonly evalLoss: number;
  /** Eval accuracy for classification; undefined for regression. */
  readonly evalAccuracy?: number;
}

export interface TrainingOptions {
  readonly task: TaskKind;
  readonly classes: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  /** Stop after this many epochs without a lower eval loss, keeping the best weights. @default - no early stop */
  readonly patience?: number;
  /**
   * Classification against the data's `targets` (a distribution per example, such as a teacher's
   * softened outputs) instead of its one-hot labels. @default false
   */
  readonly softTargets?: boolean;
  readonly listener?: TrainingListener;
}

export interface TrainingResult {
  /** Epochs run (fewer than asked when early stopping cut the run). */
  readonly epochsRun: number;
  /** The epoch whose weights the view holds at the end (1-based). */
  readonly bestEpoch: number;
  readonly history: readonly EpochResult[];
}

/** Examples `rows` of a dataset as the model's input tensors, in its input order. */
function batchInputs(view: TrainableView, data: Dataset, rows: readonly number[]): tf.Tensor[] {
  return view.onnx.inputs.map((input) => {
    const all = data.inputs.get(input.name)!;
    const size = all.length / data.count;
    const out = all instanceof Int32Array ? new Int32Array(rows.length * size) : new Float32Array(rows.length * size);
    rows.forEach((r, i) => out.set(all.subarray(r * size, (r + 1) * size), i * size));
    return tf.tensor(out, [rows.length, ...input.dims.slice(1).map((d) => d ?? 1)], all instanceof Int32Array ? 'int32' : 'float32');
  });
}

function batchTargets(data: Dataset, rows: readonly number[], opts: TrainingOptions): tf.Tensor {
  if (opts.task === 'classification' && !opts.softTargets)
    return tf.oneHot(
      tf.tensor1d(
        rows.map((r) => data.labels![r]),
        'int32',
      ),
      opts.classes,
    );
  const size = data.targets!.length / data.count;
  const out = new Float32Array(rows.length * size);
  rows.forEach((r, i) => out.set(data.targets!.subarray(r * size, (r + 1) * size), i * size));
  return tf.tensor2d(out, [rows.length, size]);
}

/** The view's predictions for every example of `data`, batch by batch. */
export function predictAll(view: TrainableView, data: Dataset, batchSize = 256): Float32Array {
  const parts: Float32Array[] = [];
  for (let start = 0; start < data.count; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, i) => start + i);
    parts.push(
      tf.tidy(() => {
        const xs = batchInputs(view, data, rows);
        const y = view.model.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor;
        return Float32Array.from(y.dataSync());
      }),
    );
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Eval loss (cross-entropy or mean squared error) and, for classification, accuracy. */
export function evaluate(
  view: TrainableView,
  data: Dataset,
  opts: Pick<TrainingOptions, 'task' | 'classes'>,
): { loss: number; accuracy?: number } {
  const predictions = predictAll(view, data);
  if (opts.task === 'regression') {
    let sum = 0;
    for (let i = 0; i < predictions.length; i++) sum += (predictions[i] - data.targets![i]) ** 2;
    return { loss: sum / predictions.length };
  }
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < data.count; r++) {
    const row = predictions.subarray(r * opts.classes, (r + 1) * opts.classes);
    let best = 0;
    for (let c = 1; c < opts.classes; c++) if (row[c] > row[best]) best = c;
    if (best === data.labels![r]) correct++;
    loss -= Math.log(Math.max(row[data.labels![r]], 1e-7));
  }
  return { loss: loss / data.count, accuracy: correct / data.count };
}

export async function train(view: TrainableView, data: Dataset, evalData: Dataset, opts: TrainingOptions): Promise<TrainingResult> {
  view.model.compile({
    optimizer: tf.train.adam(opts.learningRate),
    loss: opts.task === 'classification' ? 'categoricalCrossentropy' : 'meanSquaredError',
  });
  const random = new SeededRandom(opts.seed);
  const order = Array.from({ length: data.count }, (_, i) => i);
  const batches = Math.ceil(data.count / opts.batchSize);
  const history: EpochResult[] = [];
  let best = { loss: Infinity, epoch: 0, weights: [] as tf.Tensor[] };
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      random.shuffle(order);
      opts.listener?.epochStart?.(epoch, opts.epochs, batches);
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const rows = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
        const xs = batchInputs(view, data, rows);
        const ys = batchTargets(data, rows, opts);
        const loss = (await view.model.trainOnBatch(xs.length === 1 ? xs[0] : xs, ys)) as number;
        tf.dispose([...xs, ys]);
        // tfjs's CPU backend resolves its promises at once, so without this the loop never returns to the
        // event loop, and Ctrl-C (a signal handled there) would wait for the whole run to end.
        await new Promise((resolve) => setImmediate(resolve));
        lossSum += loss;
        opts.listener?.batchEnd?.(b + 1, lossSum / (b + 1));
      }
      const evaluated = evaluate(view, evalData, opts);
      const result: EpochResult = { trainLoss: lossSum / batches, evalLoss: evaluated.loss, evalAccuracy: evaluated.accuracy };
      history.push(result);
      opts.listener?.epochEnd?.(epoch, result);
      if (opts.patience === undefined) continue;
      if (result.evalLoss < best.loss) {
        tf.dispose(best.weights);
        best = { loss: result.evalLoss, epoch, weights: view.model.getWeights().map((w) => w.clone()) };
      } else if (epoch - best.epoch >= opts.patience) {
        break;
      }
    }
    if (opts.patience !== undefined && best.epoch > 0 && best.epoch !== history.length) view.model.setWeights(best.weights);
    return { epochsRun: history.length, bestEpoch: opts.patience !== undefined && best.epoch > 0 ? best.epoch : history.length, history };
  } finally {
    tf.dispose(best.weights);
  }
}
