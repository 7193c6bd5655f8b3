/**
 * Test harness: builds small seeded tfjs models and measures, independently of the converter's own
 * check, how far onnxruntime's answers on the converted model are from tfjs' model.predict.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../../lib/package/seeded-random';
import { convertLayersModel, ConvertResult } from '../../lib/convert/tfjs-to-onnx';

// setBackend resolves at once for the synchronous CPU backend; nothing waits on it.
void tf.setBackend('cpu');
// IS_TEST silences tfjs' "install tfjs-node" banner (and turns on its kernel leak checks).
tf.env().set('IS_TEST', true);

/** Seeded initializers, so every run builds exactly the same model. */
export function seeded(seed: number): {
  kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform>;
  biasInitializer: ReturnType<typeof tf.initializers.randomUniform>;
} {
  return {
    kernelInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed }),
    biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: seed + 1000 }),
  };
}

export function sequential(layers: tf.layers.Layer[]): tf.Sequential {
  const model = tf.sequential();
  for (const l of layers) model.add(l);
  return model;
}

export interface Agreement {
  readonly converted: ConvertResult;
  /** max |onnx - tfjs| over the batch */
  readonly maxAbsDiff: number;
  /** max |tfjs| over the batch, to show the comparison is not between two near-zero tensors */
  readonly maxAbsExpected: number;
  readonly outputShape: readonly number[];
}

export async function runOnnx(onnx: Uint8Array, inputName: string, data: Float32Array, shape: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    const out = await session.run({ [inputName]: new ort.Tensor('float32', data, shape) });
    return out[session.outputNames[0]];
  } finally {
    await session.release();
  }
}

/** Converts `model` and runs a seeded batch through both tfjs and onnxruntime. */
export async function agreement(model: tf.LayersModel, batch = 4, range: [number, number] = [-2, 2], seed = 7): Promise<Agreement> {
  const converted = convertLayersModel(model);
  const shape = [batch, ...(model.inputs[0].shape.slice(1) as number[])];
  const data = new SeededRandom(seed).floats(
    shape.reduce((a, b) => a * b, 1),
    range[0],
    range[1],
  );
  const expected = tf.tidy(() => Float32Array.from((model.predict(tf.tensor(data, shape)) as tf.Tensor).dataSync()));
  const actual = await runOnnx(converted.onnx, converted.inputName, data, shape);
  const got = actual.data as Float32Array;
  expect(got.length).toBe(expected.length);
  let maxAbsDiff = 0;
  let maxAbsExpected = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(got[i] - expected[i]);
    maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
    maxAbsExpected = Math.max(maxAbsExpected, Math.abs(expected[i]));
  }
  return { converted, maxAbsDiff, maxAbsExpected, outputShape: actual.dims };
}
