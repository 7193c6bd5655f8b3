/**
 * What the page's bar chart shows: a classifier's top classes, read from an infer response with the
 * model's labels. Pure, so jest checks it in Node and the page bundles the same code.
 */
import type { ModelMetadata, WireInferResponse } from '../protocol/wire';

export interface ClassScore {
  readonly index: number;
  readonly label: string;
  readonly score: number;
}

/** The output that scores the labels: a float output whose last dimension has one entry per label. */
export function classOutput(metadata: ModelMetadata): string | undefined {
  const labels = metadata.parameters?.labels;
  if (!labels) return undefined;
  return metadata.outputs.find((o) => o.datatype.startsWith('FP') && o.shape[o.shape.length - 1] === labels.length)?.name;
}

/**
 * The `k` best classes of the first item of the batch, best first, or undefined when the response has
 * no scores for the labels (another output was asked for, or it came as binary data).
 */
export function topClasses(metadata: ModelMetadata, response: WireInferResponse, k = 5): ClassScore[] | undefined {
  const labels = metadata.parameters?.labels;
  const name = classOutput(metadata);
  const output = response.outputs.find((o) => o.name === name);
  if (!labels || !output || !Array.isArray(output.data)) return undefined;
  const row = output.data.flat(Infinity).slice(0, labels.length);
  if (row.length !== labels.length || row.some((v) => typeof v !== 'number' && v !== null)) return undefined;
  return row
    .map((v, index) => ({ index, label: labels[index], score: typeof v === 'number' ? v : Number.NaN }))
    .sort((a, b) => (Number.isNaN(a.score) ? 1 : Number.isNaN(b.score) ? -1 : b.score - a.score))
    .slice(0, k);
}
