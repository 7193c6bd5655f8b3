/**
 * What a layer converter is handed: the graph so far, the layer's config and weights, and the
 * Keras shape flowing into it. Also the typed readers for config values, so that a malformed
 * config fails with the layer named instead of producing a wrong graph.
 */
import type * as tf from '@tensorflow/tfjs';
import type { OnnxGraphEmitter } from './onnx-graph-emitter';
import { ConversionError } from './errors';

/** A Keras shape: batch first, null where a dimension is unknown. */
export type KerasShape = ReadonlyArray<number | null>;

export interface LayerWeight {
  readonly shape: number[];
  readonly data: Float32Array;
}

export interface LayerContext {
  readonly g: OnnxGraphEmitter;
  readonly className: string;
  readonly config: tf.serialization.ConfigDict;
  /** The tensor flowing into the layer: its first input. */
  readonly x: string;
  readonly inShape: KerasShape;
  /** Every input of the layer's call, in order (merge layers take several). */
  readonly inputs: readonly string[];
  readonly inShapes: readonly KerasShape[];
  readonly outShape: KerasShape;
  /** Weights by their short Keras name ('kernel', 'bias', 'gamma', ...). */
  readonly weights: ReadonlyMap<string, LayerWeight>;
  /** Names the layer in error messages and node names. */
  readonly where: string;
  readonly base: string;
}

/** Converts one layer; returns the name of the tensor it produces. */
export type LayerConverter = (ctx: LayerContext) => string;

export function unsupported(ctx: LayerContext, what: string): Error {
  return new ConversionError(`${ctx.where}: ${what} is not supported by the tfjs-to-ONNX converter`);
}

export function weight(ctx: LayerContext, name: string): LayerWeight {
  const w = ctx.weights.get(name);
  if (!w) throw new ConversionError(`${ctx.where}: expected a weight named '${name}', found [${[...ctx.weights.keys()].join(', ')}]`);
  return w;
}

export function numberOr(ctx: LayerContext, key: string, fallback: number): number {
  const v = ctx.config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number') throw new ConversionError(`${ctx.where}: config '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function optionalString(ctx: LayerContext, key: string): string | undefined {
  const v = ctx.config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConversionError(`${ctx.where}: config '${key}' must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function booleanOr(ctx: LayerContext, key: string, fallback: boolean): boolean {
  const v = ctx.config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ConversionError(`${ctx.where}: config '${key}' must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads an int list that Keras may also give as a single int (kernelSize: 3 means [3, 3]). */
export function intList(ctx: LayerContext, key: string, length: number, fallback?: number[]): number[] {
  const v = ctx.config[key];
  if (v === undefined || v === null) {
    if (fallback) return fallback;
    throw new ConversionError(`${ctx.where}: config '${key}' is missing`);
  }
  const list = typeof v === 'number' ? new Array<number>(length).fill(v) : v;
  if (!Array.isArray(list) || list.length !== length || !list.every((n) => typeof n === 'number' && Number.isInteger(n))) {
    throw new ConversionError(`${ctx.where}: config '${key}' must be ${length} integer(s), got ${JSON.stringify(v)}`);
  }
  return list as number[];
}

/** Rejects channels-first layers: tfjs' CPU backend runs channels-last, and so does this converter. */
export function requireChannelsLast(ctx: LayerContext): void {
  const format = optionalString(ctx, 'dataFormat');
  if (format !== undefined && format !== 'channelsLast' && format !== 'channels_last') {
    throw unsupported(ctx, `dataFormat '${format}'`);
  }
}
