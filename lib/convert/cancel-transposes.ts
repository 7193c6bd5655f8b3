/**
 * Removes pairs of Transpose nodes that undo each other. Layer-by-layer conversion wraps every
 * NHWC conv/pool layer in NHWC->NCHW->NHWC transposes; between two such layers the pair is a no-op.
 */
import type { NodeSpec } from './onnx-builder';

function perm(node: NodeSpec): number[] | undefined {
  const p = node.attributes?.perm;
  return Array.isArray(p) ? p : undefined;
}

function isInverse(first: number[], second: number[]): boolean {
  // Transposing by `first` then `second` gives output axis i = input axis first[second[i]].
  return first.length === second.length && second.every((axis, i) => first[axis] === i);
}

/** Returns a node list without inverse Transpose pairs; graph outputs are never removed. */
export function cancelTransposePairs(nodes: readonly NodeSpec[], graphOutputs: readonly string[]): NodeSpec[] {
  let current = [...nodes];
  for (;;) {
    const consumers = new Map<string, number>();
    for (const n of current) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    const producer = new Map<string, NodeSpec>();
    for (const n of current) for (const o of n.outputs) producer.set(o, n);

    const second = current.find((n) => {
      if (n.opType !== 'Transpose' || graphOutputs.includes(n.outputs[0])) return false;
      const first = producer.get(n.inputs[0]);
      const p1 = first && first.opType === 'Transpose' ? perm(first) : undefined;
      const p2 = perm(n);
      return (
        !!first && !!p1 && !!p2 && isInverse(p1, p2) && consumers.get(first.outputs[0]) === 1 && !graphOutputs.includes(first.outputs[0])
      );
    });
    if (!second) return current;

    const first = producer.get(second.inputs[0]) as NodeSpec;
    const source = first.inputs[0];
    const removed = second.outputs[0];
    current = current
      .filter((n) => n !== first && n !== second)
      .map((n) => ({ ...n, inputs: n.inputs.map((i) => (i === removed ? source : i)) }));
  }
}
