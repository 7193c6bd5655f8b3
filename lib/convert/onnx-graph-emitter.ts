/**
 * Accumulates ONNX nodes and initializers while layers are converted one after another, handing
 * out unique tensor names so that no two layers can collide.
 */
import type { AttributeValue, InitializerSpec, NodeSpec } from './onnx-builder';

export class OnnxGraphEmitter {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  private readonly used = new Set<string>();
  private readonly scalars = new Map<number, string>();

  /** Marks a name (such as the graph input) as taken. */
  reserve(name: string): void {
    this.used.add(name);
  }

  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_');
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a constant tensor and returns its name. */
  constant(base: string, dims: number[], data: Float32Array | BigInt64Array | Int32Array): string {
    const name = this.uniqueName(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** A float32 scalar, shared by every node that needs the same value. */
  scalar(value: number): string {
    const existing = this.scalars.get(value);
    if (existing !== undefined) return existing;
    const name = this.constant(`const_${value}`, [], new Float32Array([value]));
    this.scalars.set(value, name);
    return name;
  }

  /** Adds a node with a single output and returns the output's name. */
  node(opType: string, inputs: string[], base: string, attributes?: Record<string, AttributeValue>): string {
    const output = this.uniqueName(`${base}/${opType}`);
    this.nodes.push({ opType, inputs, outputs: [output], name: output, attributes });
    return output;
  }

  /** Adds a node with several outputs (an RNN's Y and Y_h) and returns their names, in order. */
  multiNode(
    opType: string,
    inputs: string[],
    base: string,
    outputs: readonly string[],
    attributes?: Record<string, AttributeValue>,
  ): string[] {
    const names = outputs.map((o) => this.uniqueName(`${base}/${opType}/${o}`));
    this.nodes.push({ opType, inputs, outputs: names, name: names[0], attributes });
    return names;
  }

  /** Renames a tensor everywhere it is produced or consumed. */
  rename(from: string, to: string): void {
    const swap = (names: string[]) => names.map((n) => (n === from ? to : n));
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      this.nodes[i] = { ...n, inputs: swap(n.inputs), outputs: swap(n.outputs) };
    }
  }
}
