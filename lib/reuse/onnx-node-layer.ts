/**
 * One ONNX node as a tfjs layer. Its inputs are, slot by slot, tensors from other layers, constants
 * (shapes, axes, frozen statistics) or trainable weights (kernels, biases, embeddings, recurrent
 * matrices), which it owns as tfjs variables. Its output shapes were found by running the graph once
 * on probe inputs (trainable-view.ts), so no shape rule is written twice.
 */
import * as tf from '@tensorflow/tfjs';
import type { OnnxNode } from './onnx-model';
import { OpContext, type OpImplementation } from './onnx-op-context';

export type InputSlot =
  /** `index` into the layer's inputs: a tensor read twice (x * x) is passed once, since tfjs frees a tensor by its reads. */
  | { readonly kind: 'tensor'; readonly index: number }
  | { readonly kind: 'constant'; readonly value: tf.Tensor }
  | { readonly kind: 'weight'; readonly initializer: string; readonly dims: readonly number[] }
  | { readonly kind: 'absent' };

export interface OnnxNodeLayerArgs {
  readonly name: string;
  readonly node: OnnxNode;
  readonly slots: readonly InputSlot[];
  readonly outputShapes: readonly tf.Shape[];
  readonly implementation: OpImplementation;
}

export class OnnxNodeLayer extends tf.layers.Layer {
  static readonly className = 'OnnxNodeLayer';
  readonly node: OnnxNode;
  private readonly slots: readonly InputSlot[];
  private readonly outputShapes: readonly tf.Shape[];
  private readonly implementation: OpImplementation;
  /** Trainable weights, by the initializer they came from and go back to. */
  readonly variables = new Map<string, tf.LayerVariable>();

  constructor(args: OnnxNodeLayerArgs) {
    super({ name: args.name });
    this.node = args.node;
    this.slots = args.slots;
    this.outputShapes = args.outputShapes;
    this.implementation = args.implementation;
  }

  override build(): void {
    for (const slot of this.slots) {
      if (slot.kind !== 'weight' || this.variables.has(slot.initializer)) continue;
      const name = slot.initializer.replace(/[^A-Za-z0-9_.-]/g, '_');
      this.variables.set(slot.initializer, this.addWeight(name, [...slot.dims], 'float32', tf.initializers.zeros(), undefined, true));
    }
    this.built = true;
  }

  override computeOutputShape(): tf.Shape | tf.Shape[] {
    return this.outputShapes.length === 1 ? this.outputShapes[0] : [...this.outputShapes];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const given = Array.isArray(inputs) ? inputs : [inputs];
      const all = this.slots.map((slot) => {
        switch (slot.kind) {
          case 'tensor':
            return given[slot.index];
          case 'constant':
            return slot.value;
          case 'weight':
            return this.variables.get(slot.initializer)!.read();
          default:
            return undefined;
        }
      });
      const outputs = this.implementation(new OpContext(this.node, all));
      return outputs.length === 1 ? outputs[0] : outputs;
    });
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    for (const slot of this.slots) if (slot.kind === 'constant') slot.value.dispose();
    return super.dispose();
  }
}
