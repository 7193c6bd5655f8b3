/**
 * `modelship prune`: structured magnitude pruning (structured-prune.ts), then a brief fine-tune on
 * --data so the layers left take over from the units removed.
 */
import { decodePlainModel, encodePlainModel } from '../onnx/plain-model';
import { readDataset } from '../reuse/training-data';
import type { CompressContext, Compressed } from './compress-package';
import { CompressionError } from './errors';
import { retrain, type RetrainSettings } from './retrain';
import { parameterCount, pruneStructured } from './structured-prune';

export interface PruneOptions extends RetrainSettings {
  /** The fraction of units and filters removed from each prunable layer. */
  readonly sparsity: number;
  /** Labelled training examples for the fine-tune. */
  readonly data: string;
  readonly labelColumn?: string;
}

export async function pruneModel(context: CompressContext, o: PruneOptions): Promise<Compressed> {
  if (!context.evalData) throw new CompressionError('prune fine-tunes against held-out data: give --eval');
  const model = decodePlainModel(context.bytes);
  const parametersBefore = parameterCount(model);
  const layers = pruneStructured(model, o.sparsity);
  const parametersAfter = parameterCount(model);
  const classes = context.manifest.outputs[0].shape.slice(1).reduce((a, b) => a * b, 1);
  const data = await readDataset(
    o.data,
    { inputs: context.manifest.inputs, task: 'classification', classes, labels: context.labels },
    { labelColumn: o.labelColumn },
  );
  const tuned = await retrain(encodePlainModel(model), `${context.manifest.name} pruned`, data, context.evalData, classes, o);
  return {
    bytes: tuned.bytes,
    parameters: { sparsity: o.sparsity, ...tuned.settings, dataSha256: data.sha256, examples: data.count },
    details: { layers, parametersBefore, parametersAfter, history: tuned.result.history },
  };
}
