/**
 * Converts a tfjs model (model.json + weights) into ONNX, and checks the result numerically against
 * tfjs before anything is written.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkConversion } from './check-conversion';
import { convertLayersGraph } from './layers-model-to-onnx';
import { loadLayersModelFromFile } from './tfjs-file-io';
import { ConversionError } from './errors';
import { writeDataAtomically } from '../util/atomic-file';

export { SUPPORTED_LAYERS } from './layers-model-to-onnx';

export interface ConvertResult {
  onnx: Uint8Array;
  inputName: string;
  outputName: string;
  /** Keras class names of the converted layers, in model order. */
  layers: string[];
}

export interface ConvertOptions {
  /** ONNX graph name. @default the tfjs model's name */
  name?: string;
  /** @default 13; 13-17 are accepted, since the ops used keep their opset-13 form until 17. */
  opset?: number;
  /** @default 'input' */
  inputName?: string;
  /** @default 'output' */
  outputName?: string;
}

export interface FileConvertOptions extends ConvertOptions {
  /** Rows of seeded random input checked against tfjs. @default 32 */
  checkSamples?: number;
  /** @default 1e-4 */
  atol?: number;
  /** @default 1e-3 */
  rtol?: number;
  /** Range the check's inputs are drawn from. @default [-1, 1] */
  inputRange?: [number, number];
}

/**
 * Converts a tfjs model with one input and one output to ONNX bytes, naming them `input` and `output`
 * unless told otherwise (the names the packaged examples serve). Any topology is accepted; see
 * convertLayersGraph for models with several inputs or outputs.
 */
export function convertLayersModel(model: tf.LayersModel, opts: ConvertOptions = {}): ConvertResult {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ConversionError(
      `model '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs; this path takes exactly one of each (convertLayersGraph takes any)`,
    );
  }
  for (const t of [model.inputs[0], model.outputs[0]]) {
    if (t.dtype !== 'float32')
      throw new ConversionError(`model '${model.name}': tensor '${t.name}' is ${t.dtype}; only float32 inputs and outputs are supported`);
  }
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'output';
  if (inputName === outputName) throw new ConversionError(`input and output must have different names, both are '${inputName}'`);
  const { onnx, layers } = convertLayersGraph(model, {
    name: opts.name,
    opset: opts.opset,
    inputNames: [inputName],
    outputNames: [outputName],
  });
  return { onnx, inputName, outputName, layers: [...layers] };
}

/**
 * Loads a tfjs layers model (model.json + weight shards) from disk, converts it, checks it against
 * tfjs on `checkSamples` seeded random inputs, and only then writes the ONNX file.
 */
export async function convertTfjsModelFile(
  modelJsonPath: string,
  outPath: string,
  opts: FileConvertOptions = {},
): Promise<{ layers: string[]; maxAbsDiff: number; samples: number }> {
  const model = await loadLayersModelFromFile(modelJsonPath);
  try {
    const converted = convertLayersModel(model, opts);
    const samples = opts.checkSamples ?? 32;
    const { maxAbsDiff } = await checkConversion(model, converted, {
      samples,
      atol: opts.atol ?? 1e-4,
      rtol: opts.rtol ?? 1e-3,
      inputRange: opts.inputRange,
    });
    // Atomic: an existing .onnx at outPath is replaced whole or kept whole, never left half-written.
    await writeDataAtomically(outPath, converted.onnx);
    return { layers: converted.layers, maxAbsDiff, samples };
  } finally {
    model.dispose();
  }
}
