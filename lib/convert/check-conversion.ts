/**
 * Proves a one-input, one-output conversion numerically; the graph check in check-graph-conversion.ts
 * does the work, for this as for models with several inputs and outputs.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Tolerance } from './compare-outputs';
import { checkGraphConversion } from './check-graph-conversion';

export interface CheckOptions extends Tolerance {
  /** Rows in the checked batch. */
  readonly samples: number;
  /** @default 1234 */
  readonly seed?: number;
  /** Inputs are drawn uniformly from [lo, hi). @default [-1, 1] so negative branches are exercised too. */
  readonly inputRange?: readonly [number, number];
}

export interface ConvertedModel {
  readonly onnx: Uint8Array;
  readonly inputName: string;
  readonly outputName: string;
}

/** Throws, naming the sample, when the ONNX model disagrees with tfjs; returns the largest |diff|. */
export function checkConversion(model: tf.LayersModel, converted: ConvertedModel, opts: CheckOptions): Promise<{ maxAbsDiff: number }> {
  return checkGraphConversion(
    model,
    {
      onnx: converted.onnx,
      inputs: [{ name: converted.inputName, datatype: 'FP32', shape: model.inputs[0].shape }],
      outputs: [{ name: converted.outputName, datatype: 'FP32', shape: model.outputs[0].shape }],
      layers: [],
    },
    opts,
  );
}
