/**
 * Graph edits for reuse, on the ONNX itself so that the trainable view and the package both see one
 * graph: cutting a model at an intermediate tensor (`modelship extract`), and replacing its classifier
 * head with a new Dense + softmax on the penultimate features (`finetune --new-head`). Nodes the new
 * outputs do not need, and initializers no node reads, are dropped.
 */
import { ConversionError } from '../convert/errors';
import { decodePlainModel as decode, encodePlainModel as encode, type PlainModel, type PlainValueInfo } from '../onnx/plain-model';
import { SeededRandom } from '../package/seeded-random';

/** Keeps the nodes the given tensors need, in their order, and the initializers those nodes read. */
function prune(model: PlainModel, needed: readonly string[]): void {
  const want = new Set(needed);
  const keep = new Array<boolean>(model.graph.node.length).fill(false);
  for (let i = model.graph.node.length - 1; i >= 0; i--) {
    const node = model.graph.node[i];
    if (!node.output.some((o) => want.has(o))) continue;
    keep[i] = true;
    for (const input of node.input) if (input !== '') want.add(input);
  }
  model.graph.node = model.graph.node.filter((_, i) => keep[i]);
  model.graph.initializer = model.graph.initializer.filter((t) => want.has(t.name));
  model.graph.input = model.graph.input.filter((v) => want.has(v.name) || !model.graph.initializer.some((t) => t.name === v.name));
}

function floatOutput(name: string, dims: ReadonlyArray<number | null>): PlainValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: { dim: dims.map((d, i) => (d === null ? { dimParam: i === 0 ? 'batch' : `dim_${i}` } : { dimValue: d })) },
      },
    },
  };
}

function renameTensor(model: PlainModel, from: string, to: string): void {
  if (from === to) return;
  if (model.graph.node.some((n) => n.output.includes(to)) || model.graph.input.some((v) => v.name === to)) {
    throw new ConversionError(`cannot name the output '${to}': the graph already has a tensor of that name`);
  }
  for (const node of model.graph.node) {
    node.input = node.input.map((n) => (n === from ? to : n));
    node.output = node.output.map((n) => (n === from ? to : n));
  }
}

export interface CutOptions {
  /** The tensor that becomes the only output. */
  readonly tensor: string;
  /** What to call it. @default the tensor's name */
  readonly outputName?: string;
  /** Its shape, null where dynamic. */
  readonly dims: ReadonlyArray<number | null>;
}

/** The graph up to `tensor`, which becomes its single float output. */
export function cutAtTensor(bytes: Uint8Array, opts: CutOptions): Uint8Array {
  const model = decode(bytes);
  if (!model.graph.node.some((n) => n.output.includes(opts.tensor))) {
    throw new ConversionError(`the graph has no tensor '${opts.tensor}' computed by a node`);
  }
  prune(model, [opts.tensor]);
  const name = opts.outputName ?? opts.tensor;
  renameTensor(model, opts.tensor, name);
  model.graph.output = [floatOutput(name, opts.dims)];
  return encode(model);
}

export interface NewHeadOptions {
  /** The penultimate features: a [batch, features] tensor of the base. */
  readonly features: string;
  readonly featureSize: number;
  readonly classes: number;
  /** The graph output's name (the base's, so requests and clients keep working). */
  readonly outputName: string;
  /** Seeds the new head's Glorot-uniform kernel; the bias starts at zero. */
  readonly seed: number;
}

/** The base up to its features, then a new Gemm + Softmax of `classes` outputs. */
export function withNewHead(bytes: Uint8Array, opts: NewHeadOptions): Uint8Array {
  const model = decode(bytes);
  prune(model, [opts.features]);
  const random = new SeededRandom(opts.seed);
  const limit = Math.sqrt(6 / (opts.featureSize + opts.classes));
  const kernel = random.floats(opts.featureSize * opts.classes, -limit, limit);
  const bias = new Float32Array(opts.classes);
  const raw = (a: Float32Array) => new Uint8Array(a.buffer.slice(0));
  const logits = `new_head/Gemm`;
  model.graph.initializer.push(
    { name: 'new_head/kernel', dims: [opts.featureSize, opts.classes], dataType: 1, rawData: raw(kernel) },
    { name: 'new_head/bias', dims: [opts.classes], dataType: 1, rawData: raw(bias) },
  );
  model.graph.node.push(
    { name: 'new_head/Gemm', opType: 'Gemm', input: [opts.features, 'new_head/kernel', 'new_head/bias'], output: [logits] },
    {
      name: 'new_head/Softmax',
      opType: 'Softmax',
      input: [logits],
      output: [opts.outputName],
      attribute: [{ name: 'axis', type: 2, i: -1 }],
    },
  );
  model.graph.output = [floatOutput(opts.outputName, [null, opts.classes])];
  return encode(model);
}
