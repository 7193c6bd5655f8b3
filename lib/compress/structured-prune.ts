/**
 * Structured magnitude pruning on the ONNX graph: the units of a Dense layer (Gemm or MatMul) and the
 * filters of a Conv with the lowest L2 norm of their incoming weights are removed, together with the
 * matching inputs of the one weighted layer that reads them, so the model gets smaller rather than
 * holding zeros. A layer is prunable when its output reaches exactly one Gemm, MatMul or Conv through
 * element-wise activations and pools only, or, for a Conv, through a Flatten (with the channels-last
 * Transpose in front of it that lib/convert writes for Keras). The layer that makes the model's output
 * keeps its size: that is the signature clients see.
 */
import {
  elementCount,
  floatValues,
  intAttribute,
  rawTensor,
  ONNX_TYPE,
  type PlainModel,
  type PlainNode,
  type PlainTensor,
} from '../onnx/plain-model';
import { CompressionError } from './errors';
import { nodeName } from './weighted-nodes';

/** Ops a unit passes through unchanged, one channel in, the same channel out. */
const PASSTHROUGH = new Set([
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'Softplus',
  'HardSigmoid',
  'Identity',
  'Dropout',
  'MaxPool',
  'AveragePool',
]);

interface Prunable {
  readonly producer: PlainNode;
  readonly name: string;
  readonly consumer: PlainNode;
  /** How the consumer's weight rows map to the producer's channels. */
  readonly layout: 'direct' | 'flatten-channels-last' | 'flatten-channels-first';
}

export interface PrunedLayer {
  readonly node: string;
  readonly before: number;
  readonly after: number;
}

function axisOfOutputs(node: PlainNode): number {
  if (node.opType === 'Conv') return 0;
  return node.opType === 'Gemm' && intAttribute(node, 'transB', 0) === 1 ? 0 : 1;
}

function axisOfInputs(node: PlainNode): number {
  if (node.opType === 'Conv') return 1;
  return node.opType === 'Gemm' && intAttribute(node, 'transB', 0) === 1 ? 1 : 0;
}

/** The weighted layers whose units can be removed, each with the layer that reads them. */
function findPrunable(model: PlainModel): Prunable[] {
  const init = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const readers = new Map<string, PlainNode[]>();
  for (const n of model.graph.node) for (const i of n.input) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set(model.graph.output.map((o) => o.name));
  const shared = (t: string) => (readers.get(t) ?? []).length !== 1;
  const weighted = (n: PlainNode) =>
    (n.opType === 'Gemm' && intAttribute(n, 'transA', 0) === 0) ||
    (n.opType === 'MatMul' && init.get(n.input[1])?.dims.length === 2) ||
    (n.opType === 'Conv' && intAttribute(n, 'group', 1) === 1);
  const prunable: Prunable[] = [];
  model.graph.node.forEach((producer, index) => {
    if (!weighted(producer) || (producer.domain ?? '') !== '') return;
    const w = init.get(producer.input[1]);
    if (!w || w.dataType !== ONNX_TYPE.FLOAT || shared(w.name)) return;
    const bias = producer.input[2];
    if (bias && (!init.has(bias) || shared(bias))) return;
    let tensor = producer.output[0];
    let transposed = false;
    let flattened = false;
    for (;;) {
      if (outputs.has(tensor)) return;
      const next = readers.get(tensor) ?? [];
      if (next.length !== 1) return;
      const n = next[0];
      if (PASSTHROUGH.has(n.opType) && !flattened) {
        tensor = n.output[0];
        continue;
      }
      if (producer.opType === 'Conv' && !flattened && !transposed && n.opType === 'Transpose') {
        const perm = n.attribute?.find((a) => a.name === 'perm')?.ints ?? [];
        if (perm.join(',') !== '0,2,3,1') return;
        transposed = true;
        tensor = n.output[0];
        continue;
      }
      if (producer.opType === 'Conv' && !flattened && n.opType === 'Flatten' && intAttribute(n, 'axis', 1) === 1) {
        flattened = true;
        tensor = n.output[0];
        continue;
      }
      if (transposed && !flattened) return;
      const cw = init.get(n.input[1]);
      if (!weighted(n) || n.input[0] !== tensor || !cw || cw.dataType !== ONNX_TYPE.FLOAT || shared(cw.name)) return;
      if (flattened && n.opType === 'Conv') return;
      if (!flattened && (producer.opType === 'Conv') !== (n.opType === 'Conv')) return;
      prunable.push({
        producer,
        name: nodeName(producer, index),
        consumer: n,
        layout: flattened ? (transposed ? 'flatten-channels-last' : 'flatten-channels-first') : 'direct',
      });
      return;
    }
  });
  return prunable;
}

/** The values of `values` (of shape `dims`) at indices `keep` along `axis`. */
function sliceAxis(
  values: Float32Array,
  dims: readonly number[],
  axis: number,
  keep: readonly number[],
): { values: Float32Array; dims: number[] } {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * keep.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++)
    for (const k of keep) {
      const from = (o * dims[axis] + k) * inner;
      out.set(values.subarray(from, from + inner), at);
      at += inner;
    }
  const newDims = [...dims];
  newDims[axis] = keep.length;
  return { values: out, dims: newDims };
}

/** L2 norm of each unit's incoming weights: the slices of the weight along its output axis. */
function unitNorms(values: Float32Array, dims: readonly number[], axis: number): Float64Array {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const norms = new Float64Array(dims[axis]);
  for (let i = 0; i < values.length; i++) norms[Math.floor(i / inner) % dims[axis]] += values[i] * values[i];
  return norms.map(Math.sqrt);
}

function replace(model: PlainModel, t: PlainTensor, values: Float32Array, dims: number[]): void {
  const i = model.graph.initializer.indexOf(t);
  model.graph.initializer[i] = rawTensor(t.name, dims, ONNX_TYPE.FLOAT, values);
}

/** Removes `sparsity` of the units of every prunable layer, lowest norm first; returns what each layer kept. */
export function pruneStructured(model: PlainModel, sparsity: number): PrunedLayer[] {
  if (!(sparsity > 0 && sparsity < 1))
    throw new CompressionError(`--sparsity ${sparsity}: give a fraction of units to remove, above 0 and below 1, such as 0.5`);
  const prunable = findPrunable(model);
  if (prunable.length === 0)
    throw new CompressionError(
      'the model has no prunable layer: no Gemm, MatMul or Conv whose output reaches exactly one other through activations and pools; nothing was written',
    );
  const tensors = () => new Map(model.graph.initializer.map((t) => [t.name, t]));
  const pruned: PrunedLayer[] = [];
  for (const p of prunable) {
    const init = tensors();
    const w = init.get(p.producer.input[1])!;
    const axis = axisOfOutputs(p.producer);
    const values = floatValues(w);
    const units = w.dims[axis];
    const kept = Math.max(1, Math.round(units * (1 - sparsity)));
    const norms = unitNorms(values, w.dims, axis);
    // Ties keep the earlier unit, so a run is the same every time.
    const keep = Array.from({ length: units }, (_, i) => i)
      .sort((a, b) => norms[b] - norms[a] || a - b)
      .slice(0, kept)
      .sort((a, b) => a - b);
    const sliced = sliceAxis(values, w.dims, axis, keep);
    replace(model, w, sliced.values, sliced.dims);
    const bias = p.producer.input[2] ? init.get(p.producer.input[2]) : undefined;
    if (bias) {
      const b = sliceAxis(floatValues(bias), bias.dims, bias.dims.length - 1, keep);
      replace(model, bias, b.values, b.dims);
    }
    const cw = init.get(p.consumer.input[1])!;
    const inAxis = axisOfInputs(p.consumer);
    const rows = cw.dims[inAxis];
    const spatial = rows / units;
    const keepRows =
      p.layout === 'direct'
        ? keep
        : Array.from({ length: rows }, (_, r) => r).filter((r) =>
            keep.includes(p.layout === 'flatten-channels-last' ? r % units : Math.floor(r / spatial)),
          );
    const c = sliceAxis(floatValues(cw), cw.dims, inAxis, keepRows);
    replace(model, cw, c.values, c.dims);
    pruned.push({ node: p.name, before: units, after: kept });
  }
  // Shapes recorded for intermediate tensors are stale now; onnxruntime infers them again.
  model.graph.valueInfo = [];
  return pruned;
}

export const parameterCount = (model: PlainModel): number =>
  model.graph.initializer.filter((t) => t.dataType === ONNX_TYPE.FLOAT).reduce((n, t) => n + elementCount(t.dims), 0);
