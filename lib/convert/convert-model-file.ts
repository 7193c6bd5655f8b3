/**
 * `modelship convert FILE`: whatever the file is (a Keras 3 .keras zip, a Keras .h5, a .weights.h5 with
 * its config, or a tfjs model.json), it is read as data, rebuilt as a tfjs twin, converted to ONNX,
 * checked against the twin on seeded inputs, and only then written, atomically.
 */
import { readFile } from 'node:fs/promises';
import { writeDataAtomically } from '../util/atomic-file';
import { checkGraphConversion } from './check-graph-conversion';
import { ConversionError } from './errors';
import { readKerasModelBytes, type KerasSource } from './keras/read-keras-model';
import { detectModelFormat } from './keras/model-format';
import { buildTfjsModel } from './keras/to-tfjs';
import { convertLayersGraph, type GraphTensor } from './layers-model-to-onnx';
import { convertTfjsModelFile } from './tfjs-to-onnx';

export interface ModelFileConvertOptions {
  /** The model config JSON, for a weights-only .weights.h5. */
  readonly configPath?: string;
  /** Rows of seeded random input checked against the tfjs twin. @default 32 */
  readonly checkSamples?: number;
  /** @default 13 */
  readonly opset?: number;
  /** @default 1e-4 */
  readonly atol?: number;
  /** @default 1e-3 */
  readonly rtol?: number;
  /** Range float check inputs are drawn from. @default [-1, 1] */
  readonly inputRange?: [number, number];
}

export interface ModelFileConvertResult {
  /** What the file was: a tfjs model.json, or a Keras file with its version and sha256. */
  readonly source: { readonly format: 'tfjs' } | ({ readonly format: 'keras' } & KerasSource);
  readonly layers: readonly string[];
  readonly inputs?: readonly GraphTensor[];
  readonly outputs?: readonly GraphTensor[];
  readonly samples: number;
  readonly maxAbsDiff: number;
}

export async function convertModelFile(
  inputPath: string,
  outPath: string,
  opts: ModelFileConvertOptions = {},
): Promise<ModelFileConvertResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(inputPath);
  } catch (err) {
    throw new ConversionError(`cannot read ${inputPath}: ${(err as Error).message}`);
  }
  const samples = opts.checkSamples ?? 32;
  const tolerance = { atol: opts.atol ?? 1e-4, rtol: opts.rtol ?? 1e-3 };
  if (detectModelFormat(bytes) === 'json') {
    const result = await convertTfjsModelFile(inputPath, outPath, {
      checkSamples: samples,
      opset: opts.opset,
      inputRange: opts.inputRange,
      ...tolerance,
    });
    return { source: { format: 'tfjs' }, ...result };
  }
  const file = await readKerasModelBytes(bytes, inputPath, { configPath: opts.configPath });
  const model = await buildTfjsModel(file, inputPath);
  try {
    const converted = convertLayersGraph(model, { opset: opts.opset });
    const { maxAbsDiff } = await checkGraphConversion(model, converted, { samples, inputRange: opts.inputRange, ...tolerance });
    await writeDataAtomically(outPath, converted.onnx);
    return {
      source: { format: 'keras', ...file.source },
      layers: converted.layers,
      inputs: converted.inputs,
      outputs: converted.outputs,
      samples,
      maxAbsDiff,
    };
  } finally {
    model.dispose();
  }
}
