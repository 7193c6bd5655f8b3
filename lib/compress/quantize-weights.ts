/**
 * int8-weights: weight-only int8. Each MatMul, Gemm and Conv weight is stored as int8 with its scales
 * and a zero point of 0, and a DequantizeLinear turns it back into float32 in front of the node, the
 * QDQ form Triton's onnxruntime backend and onnxruntime's own quantizer produce. The file shrinks to
 * about a quarter; inputs, outputs and activations stay float32.
 */
import { defaultOpset, encodePlainModel, intAttr, ONNX_TYPE, rawTensor, type PlainModel, type PlainNode } from '../onnx/plain-model';
import { CompressionError } from './errors';
import { quantizeSymmetric } from './symmetric-int8';
import { findWeightedNodes, nothingToQuantize, type LeftInFloat, type WeightedNode } from './weighted-nodes';

export interface QuantizeOptions {
  /** One scale per tensor instead of one per output channel. @default false */
  readonly perTensor?: boolean;
  /** Node names to leave in float. */
  readonly exclude?: readonly string[];
}

export interface Rewritten {
  readonly bytes: Uint8Array;
  /** The nodes rewritten. */
  readonly quantized: readonly string[];
  /** How each rewritten node computes, where a mode has more than one form (int8-dynamic's Conv). */
  readonly forms?: Readonly<Record<string, string>>;
  readonly leftInFloat: readonly LeftInFloat[];
}

/** DequantizeLinear's axis input came in opset 13; before it only one scale per tensor is possible. */
export function checkPerChannelOpset(model: PlainModel, perTensor: boolean | undefined, least: number): void {
  const opset = defaultOpset(model);
  if (opset < least) throw new CompressionError(`the model imports opset ${opset}; quantization needs opset ${least} or later`);
  if (!perTensor && opset < 13)
    throw new CompressionError(`the model imports opset ${opset}; per-channel scales need opset 13 or later, so pass --per-tensor`);
}

/** Drops initializers no node reads any more (the float weights that were replaced). */
export function dropUnread(model: PlainModel): void {
  const read = new Set([...model.graph.node.flatMap((n) => n.input), ...model.graph.output.map((o) => o.name)]);
  const initializers = new Set(model.graph.initializer.map((t) => t.name));
  model.graph.initializer = model.graph.initializer.filter((t) => read.has(t.name));
  // Older models list their initializers as graph inputs too; a real input is kept even when unread.
  model.graph.input = model.graph.input.filter((v) => read.has(v.name) || !initializers.has(v.name));
}

/**
 * Replaces a node's float weight with int8 + DequantizeLinear; a weight shared by several nodes is
 * quantized once (`done` maps it to its dequantized tensor). Returns the DequantizeLinear it added, if any.
 */
export function dequantizedWeight(
  model: PlainModel,
  w: WeightedNode,
  perTensor: boolean | undefined,
  done: Map<string, string>,
): PlainNode | undefined {
  const known = done.get(w.weight.name);
  if (known !== undefined) {
    w.node.input[1] = known;
    return undefined;
  }
  const axis = perTensor ? undefined : w.axis;
  const q = quantizeSymmetric(w.values, w.weight.dims, axis);
  const base = w.weight.name;
  const scaleDims = axis === undefined ? [] : [w.weight.dims[axis]];
  model.graph.initializer.push(
    rawTensor(`${base}_quantized`, w.weight.dims, ONNX_TYPE.INT8, q.values),
    rawTensor(`${base}_scale`, scaleDims, ONNX_TYPE.FLOAT, q.scales),
    rawTensor(`${base}_zero_point`, scaleDims, ONNX_TYPE.INT8, new Int8Array(q.scales.length)),
  );
  const name = `${base}_dequantized`;
  done.set(w.weight.name, name);
  w.node.input[1] = name;
  return {
    name: `${base}_DequantizeLinear`,
    opType: 'DequantizeLinear',
    input: [`${base}_quantized`, `${base}_scale`, `${base}_zero_point`],
    output: [name],
    ...(axis === undefined ? {} : { attribute: [intAttr('axis', axis)] }),
  };
}

export function quantizeWeights(model: PlainModel, opts: QuantizeOptions = {}): Rewritten {
  checkPerChannelOpset(model, opts.perTensor, 10);
  const { nodes, leftInFloat } = findWeightedNodes(model, new Set(opts.exclude ?? []));
  if (nodes.length === 0) throw nothingToQuantize('int8-weights', leftInFloat);
  const done = new Map<string, string>();
  const added = nodes.flatMap((w) => dequantizedWeight(model, w, opts.perTensor, done) ?? []);
  // They read only initializers, so at the front they are in topological order.
  model.graph.node = [...added, ...model.graph.node];
  dropUnread(model);
  return { bytes: encodePlainModel(model), quantized: nodes.map((n) => n.name), leftInFloat };
}
