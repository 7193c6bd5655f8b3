/**
 * The trainable view of an ONNX model: a tfjs LayersModel with one layer per ONNX node, computing what
 * the graph computes, whose kernels, biases, embeddings and recurrent matrices are tfjs variables. It
 * trains with tfjs's own fit, and goes back to ONNX by writing the variables into the same graph's
 * initializers, so a view that was not trained gives back the model's bytes unchanged.
 *
 * Mapping nodes, not Keras layers, is what makes the inversion exact: every graph lib/convert writes
 * (from tfjs or from Keras) is made of ops the view implements, and so is any other graph of those ops.
 * Constants that are not weights of a matrix op stay frozen: folded batch-norm scales and shifts, layer-
 * norm gains, Normalization statistics (a fine-tune keeps them, as Keras's BatchNormalization in
 * inference mode does).
 */
import * as tf from '@tensorflow/tfjs';
import { ConversionError } from '../convert/errors';
import { OnnxNodeLayer, type InputSlot } from './onnx-node-layer';
import { readOnnxModel, writeOnnxModel, type OnnxInitializer, type OnnxModel, type OnnxNode } from './onnx-model';
import { OpContext, type OpImplementation } from './onnx-op-context';
import { RECURRENT_OPS } from './onnx-recurrent-ops';
import { SPATIAL_OPS } from './onnx-spatial-ops';
import { TENSOR_OPS, unknownOp } from './onnx-tensor-ops';

const OPS: Readonly<Record<string, OpImplementation>> = { ...TENSOR_OPS, ...SPATIAL_OPS, ...RECURRENT_OPS };

/** The ONNX ops the trainable view implements. */
export const VIEW_OPS: readonly string[] = Object.keys(OPS).sort();

/** Input slots that hold a node's learned parameters, when they are float initializers. */
const WEIGHT_SLOTS: Readonly<Record<string, readonly number[]>> = {
  Gemm: [1, 2],
  MatMul: [1],
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  LSTM: [1, 2, 3],
  GRU: [1, 2, 3],
  RNN: [1, 2, 3],
  Gather: [0],
  PRelu: [1],
};

const MIN_OPSET = 13;
const MAX_OPSET = 17;
const INT32_MAX = 2 ** 31 - 1;

export interface TrainableView {
  readonly model: tf.LayersModel;
  readonly onnx: OnnxModel;
  /** The layers that hold trainable weights, in graph order. */
  readonly weightedLayers: readonly OnnxNodeLayer[];
  /** Every tensor a node computes, with its shape (null where it follows the batch). */
  readonly tensorShapes: ReadonlyMap<string, tf.Shape>;
  /** The model's bytes with the view's current weights. */
  toOnnx(): Uint8Array;
  dispose(): void;
}

/** An initializer as a tfjs tensor; int64 becomes int32 (tfjs has no int64), clamped where ONNX means "to the end". */
function constantTensor(init: OnnxInitializer): tf.Tensor {
  const dims = [...init.dims];
  if (init.data instanceof Float32Array) return tf.tensor(init.data, dims, 'float32');
  if (init.data instanceof Int32Array) return tf.tensor(init.data, dims, 'int32');
  const clamped = Int32Array.from(init.data, (v) =>
    Number(v > BigInt(INT32_MAX) ? INT32_MAX : v < -BigInt(INT32_MAX) - 1n ? -INT32_MAX - 1 : v),
  );
  return tf.tensor(clamped, dims, 'int32');
}

function checkOps(model: OnnxModel, what: string): void {
  if (model.opset < MIN_OPSET || model.opset > MAX_OPSET) {
    throw new ConversionError(`${what}: opset ${model.opset} is not supported by the trainable view; use ${MIN_OPSET}-${MAX_OPSET}`);
  }
  for (const node of model.nodes) {
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      throw new ConversionError(
        `${what}: node '${node.name}' (${node.opType}) is in domain '${node.domain}'; only the standard domain is supported`,
      );
    }
    if (!OPS[node.opType]) throw unknownOp(new OpContext(node, []), VIEW_OPS);
  }
}

/** Concrete values of every tensor for one probe batch size: the graph run once, op by op. */
function probe(model: OnnxModel, batch: number, constants: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Tensor> {
  const values = new Map<string, tf.Tensor>(constants);
  for (const input of model.inputs) {
    const shape = input.dims.map((d) => d ?? batch);
    values.set(input.name, input.elemType === 1 ? tf.zeros(shape) : tf.zeros(shape, 'int32'));
  }
  for (const node of model.nodes) {
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = values.get(name);
      if (!v) throw new ConversionError(`node '${node.name}' (${node.opType}) reads '${name}', which no earlier node or input gives`);
      return v;
    });
    const outputs = OPS[node.opType](new OpContext(node, inputs));
    node.outputs.forEach((name, i) => {
      if (name !== '' && outputs[i]) values.set(name, outputs[i]);
    });
  }
  return values;
}

/** Dimensions that change with the probe batch size are the dynamic ones. */
function symbolicShape(a: tf.Tensor, b: tf.Tensor): tf.Shape {
  return a.shape.map((d, i) => (d === b.shape[i] ? d : null));
}

function uniqueLayerName(node: OnnxNode, used: Set<string>): string {
  const base = node.name.replace(/[^A-Za-z0-9_.-]/g, '_') || node.opType;
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

/** Builds the trainable view of ONNX bytes. `what` names the model in errors. */
export function buildTrainableView(bytes: Uint8Array, what: string): TrainableView {
  const onnx = readOnnxModel(bytes);
  checkOps(onnx, what);
  const constants = new Map<string, tf.Tensor>();
  for (const init of onnx.initializers.values()) constants.set(init.name, constantTensor(init));

  const shapes = new Map<string, tf.Shape>();
  tf.tidy(() => {
    const one = probe(onnx, 1, constants);
    const two = probe(onnx, 2, constants);
    for (const [name, t] of one) if (!constants.has(name)) shapes.set(name, symbolicShape(t, two.get(name)!));
  });

  const symbolic = new Map<string, tf.SymbolicTensor>();
  const inputs = onnx.inputs.map((input) => {
    const t = tf.input({
      shape: input.dims.slice(1),
      dtype: input.elemType === 1 ? 'float32' : 'int32',
      name: input.name.replace(/[^A-Za-z0-9_.-]/g, '_'),
    });
    symbolic.set(input.name, t);
    return t;
  });
  const weightOwners = new Map<string, string>();
  const weightedLayers: OnnxNodeLayer[] = [];
  const used = new Set<string>(inputs.map((t) => t.name));
  for (const node of onnx.nodes) {
    const weightSlots = WEIGHT_SLOTS[node.opType] ?? [];
    const tensorInputs: tf.SymbolicTensor[] = [];
    const slots: InputSlot[] = node.inputs.map((name, i): InputSlot => {
      if (name === '') return { kind: 'absent' };
      const init = onnx.initializers.get(name);
      if (init && weightSlots.includes(i) && init.data instanceof Float32Array) {
        const owner = weightOwners.get(name);
        if (owner !== undefined) {
          throw new ConversionError(
            `${what}: initializer '${name}' is a weight of both '${owner}' and '${node.name}'; shared weights are not supported`,
          );
        }
        weightOwners.set(name, node.name);
        return { kind: 'weight', initializer: name, dims: init.dims };
      }
      if (init) return { kind: 'constant', value: constantTensor(init) };
      const t = symbolic.get(name)!;
      if (!tensorInputs.includes(t)) tensorInputs.push(t);
      return { kind: 'tensor', index: tensorInputs.indexOf(t) };
    });
    if (tensorInputs.length === 0)
      throw new ConversionError(`${what}: node '${node.name}' (${node.opType}) computes only from constants; fold it first`);
    const layer = new OnnxNodeLayer({
      name: uniqueLayerName(node, used),
      node,
      slots,
      outputShapes: node.outputs.filter((o) => o !== '').map((o) => shapes.get(o)!),
      implementation: OPS[node.opType],
    });
    const out = layer.apply(tensorInputs.length === 1 ? tensorInputs[0] : tensorInputs);
    const outs = Array.isArray(out) ? out : [out];
    node.outputs.filter((o) => o !== '').forEach((o, i) => symbolic.set(o, outs[i] as tf.SymbolicTensor));
    if (layer.variables.size > 0) weightedLayers.push(layer);
  }
  const outputs = onnx.outputs.map((o) => {
    const t = symbolic.get(o.name);
    if (!t || inputs.includes(t)) throw new ConversionError(`${what}: graph output '${o.name}' is not computed by any node`);
    return t;
  });
  const model = tf.model({ inputs, outputs, name: 'trainable_view' });
  tf.tidy(() => {
    for (const layer of weightedLayers)
      layer.setWeights([...layer.variables.keys()].map((name) => constantTensor(onnx.initializers.get(name)!)));
  });
  for (const t of constants.values()) t.dispose();

  return {
    model,
    onnx,
    weightedLayers,
    tensorShapes: shapes,
    toOnnx: () => {
      const replaced = new Map<string, Float32Array>();
      for (const layer of weightedLayers) {
        for (const [name, variable] of layer.variables) replaced.set(name, Float32Array.from(variable.read().dataSync()));
      }
      return writeOnnxModel(onnx, replaced);
    },
    dispose: () => model.dispose(),
  };
}
