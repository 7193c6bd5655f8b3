/**
 * fp16: every float32 initializer is stored as float16, and a Cast in front of its readers turns it
 * back into float32, so that the graph computes, takes and returns float32 as before, on every
 * execution provider (onnxruntime's CPU provider has no float16 kernels for most ops). The file
 * halves; onnxruntime folds the Casts when the session loads. Initializers float16 cannot hold
 * (magnitudes past 65504) stay float32 and are listed.
 */
import { encodePlainModel, floatValues, intAttr, ONNX_TYPE, rawTensor, type PlainModel, type PlainNode } from '../onnx/plain-model';
import { halfBitsFromNumbers } from '../protocol/fp16';
import { CompressionError } from './errors';
import { checkExcluded, nodeName, type LeftInFloat } from './weighted-nodes';

const FLOAT16_MAX = 65504;

export interface Float16Result {
  readonly bytes: Uint8Array;
  readonly converted: readonly string[];
  readonly leftInFloat: readonly LeftInFloat[];
}

export function float16Weights(model: PlainModel, exclude: readonly string[] = []): Float16Result {
  checkExcluded(model, exclude);
  const excluded = new Set(exclude);
  // Reader names as --exclude and the report give them (a nameless node is OpType_index).
  const readers = new Map<string, string[]>();
  model.graph.node.forEach((node, index) => {
    for (const i of node.input) readers.set(i, [...(readers.get(i) ?? []), nodeName(node, index)]);
  });
  const casts: PlainNode[] = [];
  const converted: string[] = [];
  const leftInFloat: LeftInFloat[] = [];
  for (const [index, t] of model.graph.initializer.entries()) {
    if (t.dataType !== ONNX_TYPE.FLOAT) continue;
    const values = floatValues(t);
    const users = readers.get(t.name) ?? [];
    const keep = (reason: string) => leftInFloat.push({ node: t.name, opType: 'initializer', reason });
    if (users.some((u) => excluded.has(u))) {
      keep(`read by a node excluded with --exclude`);
      continue;
    }
    if (values.some((v) => Math.abs(v) > FLOAT16_MAX)) {
      keep(`it holds magnitudes past float16's ${FLOAT16_MAX}`);
      continue;
    }
    const half = `${t.name}_fp16`;
    model.graph.initializer[index] = rawTensor(half, t.dims, ONNX_TYPE.FLOAT16, halfBitsFromNumbers(values));
    casts.push({ name: `${t.name}_Cast`, opType: 'Cast', input: [half], output: [t.name], attribute: [intAttr('to', ONNX_TYPE.FLOAT)] });
    converted.push(t.name);
  }
  if (converted.length === 0)
    throw new CompressionError(
      'the model has no float32 initializer float16 can hold, so fp16 has nothing to convert; nothing was written',
    );
  // The Casts produce what were initializers, so they go first; graph inputs named after them go.
  model.graph.node = [...casts, ...model.graph.node];
  const nowComputed = new Set(converted);
  model.graph.input = model.graph.input.filter((v) => !nowComputed.has(v.name));
  return { bytes: encodePlainModel(model), converted, leftInFloat };
}
