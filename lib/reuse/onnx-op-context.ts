/**
 * What an ONNX op's tfjs implementation is handed: its inputs as tensors (undefined where an optional
 * input is left out) and typed readers for its attributes and constant integer inputs, which fail
 * naming the node rather than computing something else.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConversionError } from '../convert/errors';
import type { AttributeValue, OnnxNode } from './onnx-model';

export class OpContext {
  constructor(
    readonly node: OnnxNode,
    readonly inputs: ReadonlyArray<tf.Tensor | undefined>,
  ) {}

  get where(): string {
    return `node '${this.node.name}' (${this.node.opType})`;
  }

  fail(what: string): ConversionError {
    return new ConversionError(`${this.where}: ${what} is not supported by the trainable view`);
  }

  input(i: number): tf.Tensor {
    const t = this.inputs[i];
    if (!t) throw new ConversionError(`${this.where}: input ${i} is missing`);
    return t;
  }

  has(i: number): boolean {
    return this.inputs[i] !== undefined;
  }

  /** A constant integer input (shape, axes, pads...) as numbers. */
  ints(i: number): number[] {
    return Array.from(this.input(i).dataSync());
  }

  private attribute(name: string): AttributeValue | undefined {
    return this.node.attributes.get(name);
  }

  int(name: string, fallback: number): number {
    const v = this.attribute(name) ?? fallback;
    if (typeof v !== 'number') throw new ConversionError(`${this.where}: attribute '${name}' must be a number`);
    return v;
  }

  float(name: string, fallback: number): number {
    return this.int(name, fallback);
  }

  intList(name: string, fallback?: number[]): number[] {
    const v = this.attribute(name) ?? fallback;
    if (!Array.isArray(v) || !v.every((n) => typeof n === 'number'))
      throw new ConversionError(`${this.where}: attribute '${name}' must be a list of ints`);
    return v;
  }

  string(name: string, fallback: string): string {
    const v = this.attribute(name) ?? fallback;
    if (typeof v !== 'string') throw new ConversionError(`${this.where}: attribute '${name}' must be a string`);
    return v;
  }

  stringList(name: string, fallback: string[]): string[] {
    const v = this.attribute(name) ?? fallback;
    if (!Array.isArray(v) || !v.every((n) => typeof n === 'string'))
      throw new ConversionError(`${this.where}: attribute '${name}' must be a list of strings`);
    return v;
  }
}

/** Runs one ONNX op on tensors; returns its outputs in order. */
export type OpImplementation = (ctx: OpContext) => tf.Tensor[];

/** A negative ONNX axis counted from the end. */
export function positiveAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
