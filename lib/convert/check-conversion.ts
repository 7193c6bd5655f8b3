/**
 * Proves a conversion numerically: the same seeded pseudo-random batch goes through tfjs'
 * model.predict and through onnxruntime on the ONNX bytes, and every output must agree.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { assertOutputsClose, Tolerance } from './compare-outputs';
import { SeededRandom } from '../package/seeded-random';
import { ConversionError } from './errors';

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
export async function checkConversion(
  model: tf.LayersModel,
  converted: ConvertedModel,
  opts: CheckOptions,
): Promise<{ maxAbsDiff: number }> {
  const n = opts.samples;
  if (!Number.isInteger(n) || n < 1) throw new ConversionError(`checkSamples must be a positive integer, got ${n}`);
  const dims = model.inputs[0].shape.slice(1);
  if (dims.some((d) => d === null)) {
    throw new ConversionError(
      `cannot check model '${model.name}': its input shape [${model.inputs[0].shape.map((d) => d ?? '?').join(', ')}] has a dynamic non-batch dimension`,
    );
  }
  const shape = [n, ...(dims as number[])];
  const [lo, hi] = opts.inputRange ?? [-1, 1];
  const data = new SeededRandom(opts.seed ?? 1234).floats(
    shape.reduce((a, b) => a * b, 1),
    lo,
    hi,
  );

  const expected = tf.tidy(() => {
    const y = model.predict(tf.tensor(data, shape, 'float32'));
    if (!(y instanceof tf.Tensor)) throw new ConversionError(`model '${model.name}' returned several outputs; only one is supported`);
    return Float32Array.from(y.dataSync());
  });

  const session = await ort.InferenceSession.create(converted.onnx);
  let actual: Float32Array;
  try {
    const out = await session.run({ [converted.inputName]: new ort.Tensor('float32', data, shape) });
    actual = out[converted.outputName].data as Float32Array;
  } finally {
    await session.release();
  }
  return { maxAbsDiff: assertOutputsClose(expected, actual, n, opts) };
}
