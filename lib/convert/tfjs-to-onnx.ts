/**
 * Converts a tfjs/Keras Sequential model into ONNX (opset 13), layer by layer, and checks the
 * result numerically against tfjs before anything is written.
 */
import type * as tf from '@tensorflow/tfjs';
import { cancelTransposePairs } from './cancel-transposes';
import { checkConversion } from './check-conversion';
import { CORE_LAYERS } from './keras-core-layers';
import type { KerasShape, LayerConverter, LayerWeight } from './keras-layer-context';
import { SPATIAL_LAYERS } from './keras-spatial-layers';
import { encodeOnnxModel } from './onnx-builder';
import { OnnxGraphEmitter } from './onnx-graph-emitter';
import { loadLayersModelFromFile } from './tfjs-file-io';
import { ConversionError } from './errors';
import { writeDataAtomically } from '../util/atomic-file';

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

const CONVERTERS: Readonly<Record<string, LayerConverter>> = { ...CORE_LAYERS, ...SPATIAL_LAYERS };

/** Keras layer class names the converter handles. */
export const SUPPORTED_LAYERS: readonly string[] = Object.keys(CONVERTERS).sort();

const MIN_OPSET = 13;
// ReduceMean/ReduceMax take their axes as an input from opset 18 on.
const MAX_OPSET = 17;

function singleShape(shape: tf.Shape | tf.Shape[], where: string): KerasShape {
  if (shape.length > 0 && Array.isArray(shape[0])) throw new ConversionError(`${where} has several inputs or outputs; only one is supported`);
  return shape as tf.Shape;
}

/** Keras' null batch becomes the symbolic 'batch'; any other unknown dimension gets its own name. */
function onnxShape(shape: KerasShape): Array<number | string> {
  return shape.map((d, i) => (d !== null ? d : i === 0 ? 'batch' : `dim_${i}`));
}

function layerWeights(layer: tf.layers.Layer, where: string): Map<string, LayerWeight> {
  const values = layer.getWeights();
  const weights = new Map<string, LayerWeight>();
  layer.weights.forEach((variable, i) => {
    if (variable.dtype !== 'float32') throw new ConversionError(`${where}: weight '${variable.name}' is ${variable.dtype}; only float32 is supported`);
    // 'dense_Dense1/kernel' and Keras' 'sequential/dense/kernel:0' both end in the short name.
    const short = (variable.originalName ?? variable.name).split('/').pop()?.replace(/:\d+$/, '') ?? variable.name;
    weights.set(short, { shape: [...variable.shape] as number[], data: Float32Array.from(values[i].dataSync()) });
  });
  return weights;
}

/** Converts a tfjs Sequential model to ONNX bytes. Throws, naming the layer, on anything unsupported. */
export function convertLayersModel(model: tf.LayersModel, opts: ConvertOptions = {}): ConvertResult {
  const opset = opts.opset ?? MIN_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ConversionError(`opset ${opset} is not supported; use ${MIN_OPSET}-${MAX_OPSET}`);
  }
  if (model.getClassName() !== 'Sequential') {
    throw new ConversionError(
      `model '${model.name}' is a ${model.getClassName()} (functional) model with layers [${model.layers.map((l) => `${l.name} (${l.getClassName()})`).join(', ')}]; `
      + 'only Sequential models are supported',
    );
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ConversionError(`model '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs; exactly one of each is supported`);
  }
  for (const t of [model.inputs[0], model.outputs[0]]) {
    if (t.dtype !== 'float32') throw new ConversionError(`model '${model.name}': tensor '${t.name}' is ${t.dtype}; only float32 inputs and outputs are supported`);
  }
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'output';
  if (inputName === outputName) throw new ConversionError(`input and output must have different names, both are '${inputName}'`);

  const g = new OnnxGraphEmitter();
  g.reserve(inputName);
  g.reserve(outputName);
  const inShape = model.inputs[0].shape;
  let x = inputName;
  let shape: KerasShape = inShape;
  const layers: string[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const where = `layer '${layer.name}' (${className})`;
    const convert = CONVERTERS[className];
    if (!convert) {
      throw new ConversionError(`${where} is not supported by the tfjs-to-ONNX converter; supported layers: ${SUPPORTED_LAYERS.join(', ')}`);
    }
    const outShape = singleShape(layer.outputShape, where);
    x = convert({ g, className, config: layer.getConfig(), x, inShape: shape, outShape, weights: layerWeights(layer, where), where, base: layer.name });
    shape = outShape;
    layers.push(className);
  }
  // A model of no-ops (only Dropout, say) still needs a node to produce the named output.
  if (x === inputName) x = g.node('Identity', [x], 'output');
  g.rename(x, outputName);
  const nodes = cancelTransposePairs(g.nodes, [outputName]);

  const onnx = encodeOnnxModel({
    name: opts.name ?? model.name,
    inputs: [{ name: inputName, datatype: 'FP32', shape: onnxShape(inShape) }],
    outputs: [{ name: outputName, datatype: 'FP32', shape: onnxShape(model.outputs[0].shape) }],
    nodes,
    initializers: g.initializers,
    opset,
    producerName: 'modelship',
    docString: `Converted from tfjs Sequential model '${model.name}': ${layers.join(' -> ')}`,
  });
  return { onnx, inputName, outputName, layers };
}

/**
 * Loads a tfjs layers model (model.json + weight shards) from disk, converts it, checks it against
 * tfjs on `checkSamples` seeded random inputs, and only then writes the ONNX file.
 */
export async function convertTfjsModelFile(
  modelJsonPath: string, outPath: string, opts: FileConvertOptions = {},
): Promise<{ layers: string[]; maxAbsDiff: number; samples: number }> {
  const model = await loadLayersModelFromFile(modelJsonPath);
  try {
    const converted = convertLayersModel(model, opts);
    const samples = opts.checkSamples ?? 32;
    const { maxAbsDiff } = await checkConversion(model, converted, {
      samples, atol: opts.atol ?? 1e-4, rtol: opts.rtol ?? 1e-3, inputRange: opts.inputRange,
    });
    // Atomic: an existing .onnx at outPath is replaced whole or kept whole, never left half-written.
    await writeDataAtomically(outPath, converted.onnx);
    return { layers: converted.layers, maxAbsDiff, samples };
  } finally {
    model.dispose();
  }
}
