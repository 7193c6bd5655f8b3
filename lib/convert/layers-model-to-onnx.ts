/**
 * Converts a tfjs LayersModel of any topology (a Sequential chain, or a Functional graph with several
 * inputs, outputs, shared tensors and merges) into an ONNX graph, one layer call at a time in the
 * model's topological order. Each converter sees its inputs' ONNX names and Keras shapes and returns
 * the name of the tensor it produces; nothing here knows what any layer computes.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Datatype } from '../protocol/datatypes';
import { cancelTransposePairs } from './cancel-transposes';
import { ConversionError } from './errors';
import { CONV_VARIANT_LAYERS } from './keras-conv-variants';
import { CORE_LAYERS } from './keras-core-layers';
import { EMBEDDING_NORM_LAYERS } from './keras-embedding-norm';
import type { KerasShape, LayerConverter, LayerWeight } from './keras-layer-context';
import { MERGE_LAYERS } from './keras-merge-layers';
import { PREPROCESSING_LAYERS } from './keras-preprocessing-layers';
import { RECURRENT_LAYERS } from './keras-recurrent-layers';
import { RESHAPING_LAYERS } from './keras-reshaping-layers';
import { SPATIAL_LAYERS } from './keras-spatial-layers';
import { encodeOnnxModel, type ValueSpec } from './onnx-builder';
import { OnnxGraphEmitter } from './onnx-graph-emitter';

const CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  ...CORE_LAYERS,
  ...SPATIAL_LAYERS,
  ...CONV_VARIANT_LAYERS,
  ...MERGE_LAYERS,
  ...EMBEDDING_NORM_LAYERS,
  ...RECURRENT_LAYERS,
  ...RESHAPING_LAYERS,
  ...PREPROCESSING_LAYERS,
};

/** Keras layer class names the converter handles. */
export const SUPPORTED_LAYERS: readonly string[] = Object.keys(CONVERTERS).sort();

export const MIN_OPSET = 13;
// ReduceMean/ReduceMax take their axes as an input from opset 18 on.
export const MAX_OPSET = 17;

export interface GraphConvertOptions {
  /** ONNX graph name. @default the model's name */
  readonly name?: string;
  /** @default 13; 13-17 are accepted, since the ops used keep their opset-13 form until 17. */
  readonly opset?: number;
  /** Names for the graph inputs, in the model's input order. @default - the Keras input layers' names */
  readonly inputNames?: readonly string[];
  /** Names for the graph outputs, in the model's output order. @default - the names of the layers that produce them */
  readonly outputNames?: readonly string[];
}

export interface GraphTensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: KerasShape;
}

export interface GraphConvertResult {
  readonly onnx: Uint8Array;
  readonly inputs: readonly GraphTensor[];
  readonly outputs: readonly GraphTensor[];
  /** Keras class names of the converted layer calls, in graph order. */
  readonly layers: readonly string[];
}

/** Keras's null batch becomes the symbolic 'batch'; any other unknown dimension gets its own name. */
function onnxShape(shape: KerasShape): Array<number | string> {
  return shape.map((d, i) => (d !== null ? d : i === 0 ? 'batch' : `dim_${i}`));
}

function datatypeOf(t: tf.SymbolicTensor, where: string): Datatype {
  if (t.dtype === 'float32') return 'FP32';
  if (t.dtype === 'int32') return 'INT32';
  throw new ConversionError(`${where}: tensor '${t.name}' is ${t.dtype}; only float32 and int32 are supported`);
}

function layerWeights(layer: tf.layers.Layer, where: string): Map<string, LayerWeight> {
  const values = layer.getWeights();
  const weights = new Map<string, LayerWeight>();
  // A Bidirectional lists its forward layer's weights, then its backward layer's, under the same short names.
  const half = layer.weights.length / 2;
  const prefix = (i: number) => (layer.getClassName() === 'Bidirectional' ? (i < half ? 'forward/' : 'backward/') : '');
  layer.weights.forEach((variable, i) => {
    if (variable.dtype !== 'float32')
      throw new ConversionError(`${where}: weight '${variable.name}' is ${variable.dtype}; only float32 is supported`);
    // 'dense_Dense1/kernel' and Keras's 'sequential/dense/kernel:0' both end in the short name.
    const short = (variable.originalName ?? variable.name).split('/').pop()?.replace(/:\d+$/, '') ?? variable.name;
    weights.set(prefix(i) + short, { shape: [...variable.shape] as number[], data: Float32Array.from(values[i].dataSync()) });
  });
  return weights;
}

function checkNames(kind: string, names: readonly string[], count: number): void {
  if (names.length !== count) throw new ConversionError(`the model has ${count} ${kind}(s); ${names.length} name(s) were given`);
}

/** Converts a tfjs LayersModel to ONNX bytes. Throws, naming the layer, on anything unsupported. */
export function convertLayersGraph(model: tf.LayersModel, opts: GraphConvertOptions = {}): GraphConvertResult {
  const opset = opts.opset ?? MIN_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ConversionError(`opset ${opset} is not supported; use ${MIN_OPSET}-${MAX_OPSET}`);
  }
  const inputNames = opts.inputNames ?? model.inputs.map((t) => t.sourceLayer.name);
  const outputNames = opts.outputNames ?? model.outputs.map((t) => t.sourceLayer.name);
  checkNames('input', inputNames, model.inputs.length);
  checkNames('output', outputNames, model.outputs.length);
  const all = [...inputNames, ...outputNames];
  const twice = all.find((n, i) => all.indexOf(n) !== i);
  if (twice !== undefined) throw new ConversionError(`inputs and outputs must have different names; '${twice}' is used twice`);

  const g = new OnnxGraphEmitter();
  for (const n of all) g.reserve(n);
  /** SymbolicTensor id -> the ONNX tensor that holds it. */
  const tensors = new Map<number, string>();
  const inputs: GraphTensor[] = model.inputs.map((t, i) => {
    tensors.set(t.id, inputNames[i]);
    return { name: inputNames[i], datatype: datatypeOf(t, `input '${inputNames[i]}'`), shape: t.shape };
  });

  const layers: string[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    // An InputLayer computes nothing; it is listed, as a Sequential model that names one lists it.
    if (className === 'InputLayer') {
      layers.push(className);
      continue;
    }
    const where = `layer '${layer.name}' (${className})`;
    const convert = CONVERTERS[className];
    if (!convert) throw new ConversionError(`${where} is not supported by the converter; supported layers: ${SUPPORTED_LAYERS.join(', ')}`);
    let weights: Map<string, LayerWeight> | undefined;
    for (const [callIndex, node] of layer.inboundNodes.entries()) {
      const ins = node.inputTensors.map((t) => tensors.get(t.id));
      // A node whose inputs are not in this graph belongs to another model that shares the layer.
      if (ins.some((x) => x === undefined)) continue;
      if (node.outputTensors.length !== 1)
        throw new ConversionError(`${where} gives ${node.outputTensors.length} outputs; only layers with one output are supported`);
      weights ??= layerWeights(layer, where);
      const inShapes = node.inputTensors.map((t) => t.shape);
      const base = callIndex === 0 ? layer.name : `${layer.name}_call${callIndex}`;
      const y = convert({
        g,
        className,
        config: layer.getConfig(),
        x: ins[0]!,
        inShape: inShapes[0],
        inputs: ins as string[],
        inShapes,
        outShape: node.outputTensors[0].shape,
        weights,
        where,
        base,
      });
      tensors.set(node.outputTensors[0].id, y);
      layers.push(className);
    }
  }

  const graphInputs = new Set(inputNames);
  const outputs: GraphTensor[] = model.outputs.map((t, i) => {
    let y = tensors.get(t.id);
    if (y === undefined) throw new ConversionError(`output '${outputNames[i]}' is not computed from the model's inputs`);
    const name = outputNames[i];
    // A tensor that is a graph input, or already another output, gets its own copy under the output's name.
    if (graphInputs.has(y) || outputNames.includes(y) || !g.nodes.some((n) => n.outputs.includes(y!))) y = g.node('Identity', [y], name);
    g.rename(y, name);
    for (const [id, v] of tensors) if (v === y) tensors.set(id, name);
    return { name, datatype: datatypeOf(t, `output '${name}'`), shape: t.shape };
  });
  const nodes = cancelTransposePairs(g.nodes, outputNames);

  const spec = (t: GraphTensor): ValueSpec => ({ name: t.name, datatype: t.datatype, shape: onnxShape(t.shape) });
  const onnx = encodeOnnxModel({
    name: opts.name ?? model.name,
    inputs: inputs.map(spec),
    outputs: outputs.map(spec),
    nodes,
    initializers: g.initializers,
    opset,
    producerName: 'modelship',
    // The Sequential wording is the one the committed example models carry, which npm run train reproduces byte for byte.
    docString:
      model.getClassName() === 'Sequential'
        ? `Converted from tfjs Sequential model '${model.name}': ${layers.join(' -> ')}`
        : `Converted from Keras/tfjs ${model.getClassName()} model '${model.name}': ${layers.join(', ')}`,
  });
  return { onnx, inputs, outputs, layers };
}
