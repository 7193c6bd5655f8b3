/**
 * Brief training of a compressed graph (a pruned model's fine-tune, a student's distillation) with the
 * reuse machinery: the ONNX becomes a trainable view (lib/reuse/trainable-view.ts), the seeded training
 * loop fits it (lib/reuse/training-loop.ts), and the trained weights go back into the same graph.
 */
import { buildTrainableView } from '../reuse/trainable-view';
import type { Dataset } from '../reuse/training-data';
import { train, type TrainingListener, type TrainingResult } from '../reuse/training-loop';

export interface RetrainSettings {
  /** @default 3 */
  readonly epochs?: number;
  /** @default 32 */
  readonly batchSize?: number;
  /** @default 1e-3 */
  readonly learningRate?: number;
  /** @default 42 */
  readonly seed?: number;
  readonly listener?: TrainingListener;
}

export interface Retrained {
  readonly bytes: Uint8Array;
  readonly settings: { readonly epochs: number; readonly batchSize: number; readonly learningRate: number; readonly seed: number };
  readonly result: TrainingResult;
}

export async function retrain(
  bytes: Uint8Array,
  what: string,
  data: Dataset,
  evalData: Dataset,
  classes: number,
  s: RetrainSettings,
  soft = false,
): Promise<Retrained> {
  const settings = { epochs: s.epochs ?? 3, batchSize: s.batchSize ?? 32, learningRate: s.learningRate ?? 1e-3, seed: s.seed ?? 42 };
  const view = buildTrainableView(bytes, what);
  try {
    const result = await train(view, data, evalData, {
      task: 'classification',
      classes,
      ...settings,
      softTargets: soft,
      listener: s.listener,
    });
    return { bytes: view.toOnnx(), settings, result };
  } finally {
    view.dispose();
  }
}
