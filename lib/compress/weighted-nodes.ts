/**
 * The nodes compression rewrites: MatMul, Gemm and Conv whose weight (input 1) is a constant float
 * initializer. Anything else of those op types is left in float with the reason, for the report.
 */
import { floatValues, intAttribute, ONNX_TYPE, type PlainModel, type PlainNode, type PlainTensor } from '../onnx/plain-model';
import { CompressionError } from './errors';

export const WEIGHTED_OPS: readonly string[] = ['MatMul', 'Gemm', 'Conv'];

export interface WeightedNode {
  readonly node: PlainNode;
  readonly name: string;
  readonly weight: PlainTensor;
  readonly values: Float32Array;
  /** The weight's output-channel axis: per-channel scales run along it. */
  readonly axis: number;
}

/** A node of a quantizable op type that stays in float, and why. */
export interface LeftInFloat {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

export const nodeName = (node: PlainNode, index: number): string => node.name || `${node.opType}_${index}`;

/** The weight's output-channel axis, or the reason the node cannot be rewritten. */
function outputAxis(node: PlainNode, weight: PlainTensor): number | string {
  switch (node.opType) {
    case 'MatMul':
      return weight.dims.length === 2 ? 1 : `its weight has rank ${weight.dims.length}; only a 2-D weight is quantized`;
    case 'Gemm':
      return intAttribute(node, 'transB', 0) === 1 ? 0 : 1;
    default:
      return weight.dims.length >= 3 ? 0 : `its weight has rank ${weight.dims.length}`;
  }
}

/** Refuses an --exclude name that is no node of the model, listing the names it has. */
export function checkExcluded(model: PlainModel, exclude: Iterable<string>): void {
  const known = new Set(model.graph.node.map(nodeName));
  for (const name of exclude) {
    if (!known.has(name))
      throw new CompressionError(`--exclude ${name}: the model has no node of that name; its nodes are: ${[...known].join(', ')}`);
  }
}

/** The rewritable nodes and those left in float; `extra` adds a mode's own limits (int8-dynamic takes fewer Gemm forms). */
export function findWeightedNodes(
  model: PlainModel,
  exclude: ReadonlySet<string>,
  extra: (node: PlainNode, initializers: ReadonlyMap<string, PlainTensor>) => string | undefined = () => undefined,
): { nodes: WeightedNode[]; leftInFloat: LeftInFloat[] } {
  const initializers = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const nodes: WeightedNode[] = [];
  const leftInFloat: LeftInFloat[] = [];
  checkExcluded(model, exclude);
  model.graph.node.forEach((node, index) => {
    if (!WEIGHTED_OPS.includes(node.opType) || (node.domain ?? '') !== '') return;
    const name = nodeName(node, index);
    const skip = (reason: string): void => void leftInFloat.push({ node: name, opType: node.opType, reason });
    if (exclude.has(name)) return skip('excluded with --exclude');
    const weight = initializers.get(node.input[1]);
    if (!weight) return skip(`its weight '${node.input[1]}' is computed, not a constant initializer`);
    if (weight.dataType !== ONNX_TYPE.FLOAT) return skip(`its weight '${weight.name}' is not float32`);
    const axis = outputAxis(node, weight);
    if (typeof axis === 'string') return skip(axis);
    const limit = extra(node, initializers);
    if (limit) return skip(limit);
    nodes.push({ node, name, weight, values: floatValues(weight), axis });
  });
  return { nodes, leftInFloat };
}

/** The refusal when nothing can be rewritten: no such op at all, or every one left in float. */
export function nothingToQuantize(method: string, leftInFloat: readonly LeftInFloat[]): CompressionError {
  if (leftInFloat.length === 0)
    return new CompressionError(`the model has no MatMul, Gemm or Conv node, so ${method} has nothing to quantize; nothing was written`);
  return new CompressionError(
    `${method} has nothing to quantize: every MatMul, Gemm and Conv node stays in float (${leftInFloat
      .map((l) => `${l.node}: ${l.reason}`)
      .join('; ')}); nothing was written`,
  );
}
