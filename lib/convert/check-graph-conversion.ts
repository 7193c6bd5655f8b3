/**
 * Proves a conversion of a model with any number of inputs and outputs: the same seeded inputs go
 * through tfjs's model.predict and through onnxruntime on the ONNX bytes, and every output must agree.
 * Float inputs are drawn from `inputRange`; int32 inputs (token ids) from [0, the Embedding's input_dim).
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../package/seeded-random';
import { assertOutputsClose, type Tolerance } from './compare-outputs';
import { ConversionError } from './errors';
import type { GraphConvertResult } from './layers-model-to-onnx';

export interface GraphCheckOptions extends Tolerance {
  /** Rows in the checked batch. */
  readonly samples: number;
  /** @default 1234 */
  readonly seed?: number;
  /** Float inputs are drawn uniformly from [lo, hi). @default [-1, 1], so negative branches are exercised too */
  readonly inputRange?: readonly [number, number];
}

/** The exclusive upper bound for an int input's ids: the input_dim of the Embedding that reads it. */
function idBound(model: tf.LayersModel, input: tf.SymbolicTensor): number {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Embedding') continue;
    if (layer.inboundNodes.some((n) => n.inputTensors.some((t) => t.id === input.id))) return layer.getConfig().inputDim as number;
  }
  return 2;
}

/** Throws, naming the output and the element, when ONNX disagrees with tfjs; returns the largest |diff|. */
export async function checkGraphConversion(
  model: tf.LayersModel,
  converted: GraphConvertResult,
  opts: GraphCheckOptions,
): Promise<{ maxAbsDiff: number }> {
  const n = opts.samples;
  if (!Number.isInteger(n) || n < 1) throw new ConversionError(`checkSamples must be a positive integer, got ${n}`);
  const rng = new SeededRandom(opts.seed ?? 1234);
  const [lo, hi] = opts.inputRange ?? [-1, 1];
  const feeds: Record<string, ort.Tensor> = {};
  const tfInputs: tf.Tensor[] = [];
  model.inputs.forEach((input, i) => {
    const meta = converted.inputs[i];
    const dims = input.shape.slice(1);
    if (dims.some((d) => d === null)) {
      throw new ConversionError(
        `cannot check input '${meta.name}': its shape [${input.shape.map((d) => d ?? '?').join(', ')}] has a dynamic non-batch dimension`,
      );
    }
    const shape = [n, ...(dims as number[])];
    const count = shape.reduce((a, b) => a * b, 1);
    if (meta.datatype === 'INT32') {
      const bound = idBound(model, input);
      const ids = Int32Array.from({ length: count }, () => rng.int(bound));
      feeds[meta.name] = new ort.Tensor('int32', ids, shape);
      tfInputs.push(tf.tensor(ids, shape, 'int32'));
    } else {
      const data = rng.floats(count, lo, hi);
      feeds[meta.name] = new ort.Tensor('float32', data, shape);
      tfInputs.push(tf.tensor(data, shape, 'float32'));
    }
  });
  const expected = tf.tidy(() => {
    const y = model.predict(tfInputs.length === 1 ? tfInputs[0] : tfInputs);
    return (Array.isArray(y) ? y : [y]).map((t) => Float32Array.from(t.dataSync()));
  });
  tf.dispose(tfInputs);

  const session = await ort.InferenceSession.create(converted.onnx);
  try {
    const out = await session.run(feeds);
    let maxAbsDiff = 0;
    converted.outputs.forEach((meta, i) => {
      try {
        maxAbsDiff = Math.max(maxAbsDiff, assertOutputsClose(expected[i], out[meta.name].data as Float32Array, n, opts));
      } catch (err) {
        throw new ConversionError(`output '${meta.name}': ${(err as Error).message}`);
      }
    });
    return { maxAbsDiff };
  } finally {
    await session.release();
  }
}
