/**
 * Reads a Keras model config (config.json in a .keras file, the model_config attribute of an .h5, or
 * model.to_json()) into a layer graph, in both the Keras 3 and the Keras 2 serialization. Nothing in it
 * is ever executed: a config is data, and any object that would need code to rebuild (a Lambda layer,
 * a custom registered class, a function) is refused here, before weights are even read.
 */
import { ConversionError } from '../errors';

/** Where a layer's input comes from: output `tensorIndex` of call `nodeIndex` of layer `layer`. */
export interface TensorRef {
  readonly layer: string;
  readonly nodeIndex: number;
  readonly tensorIndex: number;
}

export interface KerasLayer {
  readonly className: string;
  readonly name: string;
  /** The layer's own config, as serialized. */
  readonly config: Readonly<Record<string, unknown>>;
  /** One entry per call of the layer (a shared layer is called more than once), each listing its inputs. */
  readonly inbound: readonly (readonly TensorRef[])[];
}

export interface KerasModelGraph {
  readonly kind: 'Sequential' | 'Functional';
  readonly name: string;
  /** Every layer in the config's order, InputLayers included; that order names the weights (keras-weights.ts). */
  readonly layers: readonly KerasLayer[];
  readonly inputs: readonly TensorRef[];
  readonly outputs: readonly TensorRef[];
  /** Which serialization the config used. */
  readonly serialization: 'keras3' | 'keras2';
}

/**
 * Layer classes that modelship knows to be pure data: a config plus weights. Anything else is refused
 * by name, so that an unknown class can never be mistaken for a known one.
 */
export const KNOWN_LAYER_CLASSES: ReadonlySet<string> = new Set([
  'InputLayer',
  'Dense',
  'Activation',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'Flatten',
  'Reshape',
  'Permute',
  'RepeatVector',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Conv1D',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Conv2DTranspose',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'BatchNormalization',
  'LayerNormalization',
  'Embedding',
  'Rescaling',
  'Normalization',
  'LSTM',
  'GRU',
  'SimpleRNN',
  'Bidirectional',
  'Add',
  'Subtract',
  'Multiply',
  'Concatenate',
  'Average',
  'Maximum',
  'Minimum',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'PReLU',
]);

/** Classes that hold code, refused whatever else the config says. */
const CODE_CLASSES: ReadonlySet<string> = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda', '__lambda__', 'function']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(layer: Json): string {
  const cfg = isObject(layer.config) ? layer.config : {};
  const name = typeof cfg.name === 'string' ? cfg.name : typeof layer.name === 'string' ? layer.name : '?';
  return `layer '${name}' (${String(layer.class_name)})`;
}

/**
 * Walks every serialized object in a layer's config and refuses the ones that would need code: a class
 * that holds a function (Lambda), a custom registered object (registered_name 'package>Name', or a
 * module outside Keras), or a serialized function such as a custom activation.
 */
function refuseCode(value: unknown, where: string, what: string): void {
  if (Array.isArray(value)) {
    for (const v of value) refuseCode(v, where, what);
    return;
  }
  if (!isObject(value)) return;
  const className = value.class_name;
  if (typeof className === 'string') {
    if (CODE_CLASSES.has(className)) {
      throw new ConversionError(
        `${what}: ${where} is a ${className === 'Lambda' ? 'Lambda layer' : `'${className}' object`}, which holds Python code; modelship never runs code from a model file. Rewrite it with built-in layers`,
      );
    }
    const registered = value.registered_name;
    const module = value.module;
    const custom =
      (typeof registered === 'string' && registered !== className && registered.includes('>')) ||
      (typeof module === 'string' && module !== 'builtins' && !module.startsWith('keras'));
    if (custom) {
      throw new ConversionError(
        `${what}: ${where} uses the custom object '${typeof registered === 'string' ? registered : `${String(module)}.${className}`}', whose code is not in the file; modelship converts built-in Keras objects only`,
      );
    }
    if (module === 'builtins' && className !== 'tuple' && className !== 'list' && className !== 'dict') {
      throw new ConversionError(`${what}: ${where} holds a serialized Python '${className}', which modelship does not rebuild`);
    }
  }
  for (const v of Object.values(value)) refuseCode(v, where, what);
}

function layerName(layer: Json, what: string): string {
  const cfg = isObject(layer.config) ? layer.config : undefined;
  const name = (cfg && typeof cfg.name === 'string' ? cfg.name : undefined) ?? (typeof layer.name === 'string' ? layer.name : undefined);
  if (name === undefined || name === '') throw new ConversionError(`${what}: a ${String(layer.class_name)} layer has no name`);
  return name;
}

/** A Keras 2 history entry ["layer", node, tensor, {kwargs}] or Keras 3's ["layer", node, tensor]. */
function parseHistory(entry: unknown, where: string, what: string): TensorRef {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Number.isInteger(entry[1]) || !Number.isInteger(entry[2])) {
    throw new ConversionError(`${what}: ${where} has a malformed inbound reference ${JSON.stringify(entry)?.slice(0, 80)}`);
  }
  return { layer: entry[0], nodeIndex: entry[1] as number, tensorIndex: entry[2] as number };
}

/** The KerasTensors a Keras 3 node's args name, in order, however they nest (Add takes a list). */
function keras3Args(value: unknown, where: string, what: string, out: TensorRef[]): void {
  if (Array.isArray(value)) {
    for (const v of value) keras3Args(v, where, what, out);
    return;
  }
  if (!isObject(value)) return;
  if (value.class_name === '__keras_tensor__') {
    const cfg = isObject(value.config) ? value.config : {};
    out.push(parseHistory(cfg.keras_history, where, what));
    return;
  }
  throw new ConversionError(
    `${what}: ${where} is called with a ${typeof value.class_name === 'string' ? value.class_name : 'non-tensor'} argument; only tensors are supported`,
  );
}

/**
 * A layer's calls. Keras 2 wrote each call as a list of history entries; Keras 3 as {args, kwargs}
 * (Keras 3's legacy .h5 too, though its objects carry no `module`), so the shape of each node decides.
 */
function parseInbound(layer: Json, where: string, what: string): TensorRef[][] {
  const nodes = layer.inbound_nodes;
  if (nodes === undefined) return [];
  if (!Array.isArray(nodes)) throw new ConversionError(`${what}: ${where} has malformed inbound_nodes`);
  return nodes.map((node) => {
    if (Array.isArray(node)) return node.map((e) => parseHistory(e, where, what));
    if (!isObject(node)) throw new ConversionError(`${what}: ${where} has a malformed inbound node`);
    const refs: TensorRef[] = [];
    keras3Args(node.args, where, what, refs);
    // Keras 3 passes some layers' tensors as kwargs (a mask, say); those need code paths modelship lacks.
    if (isObject(node.kwargs)) {
      for (const [k, v] of Object.entries(node.kwargs)) {
        const extra: TensorRef[] = [];
        keras3Args(v, where, what, extra);
        if (extra.length > 0)
          throw new ConversionError(`${what}: ${where} takes the tensor argument '${k}'; only positional tensor inputs are supported`);
      }
    }
    return refs;
  });
}

function refList(value: unknown, where: string, what: string): TensorRef[] {
  if (!Array.isArray(value)) throw new ConversionError(`${what}: the model's ${where} are missing`);
  // A single-input model may write ["a", 0, 0] instead of [["a", 0, 0]].
  if (typeof value[0] === 'string') return [parseHistory(value, where, what)];
  return value.map((e) => parseHistory(e, where, what));
}

/** Parses a model config. `what` names the file in every error. */
export function parseKerasConfig(config: unknown, what: string): KerasModelGraph {
  if (!isObject(config) || typeof config.class_name !== 'string' || !isObject(config.config)) {
    throw new ConversionError(`${what}: the model config is not a Keras model (no class_name and config)`);
  }
  const kind =
    config.class_name === 'Sequential'
      ? 'Sequential'
      : config.class_name === 'Functional' || config.class_name === 'Model'
        ? 'Functional'
        : undefined;
  if (kind === undefined) {
    refuseCode(config, `the model (${config.class_name})`, what);
    throw new ConversionError(
      `${what}: the model is a '${config.class_name}'; modelship converts Sequential and Functional models (a subclassed model's call() is Python code)`,
    );
  }
  const body = config.config;
  const name = typeof body.name === 'string' ? body.name : 'model';
  if (!Array.isArray(body.layers)) throw new ConversionError(`${what}: the model config lists no layers`);
  // Keras 3 writes dtype policies as objects and InputLayer's shape as batch_shape; Keras 2 neither.
  const serialization = 'module' in config || JSON.stringify(body.layers).includes('"batch_shape"') ? 'keras3' : 'keras2';

  const layers: KerasLayer[] = [];
  const seen = new Set<string>();
  for (const raw of body.layers as unknown[]) {
    if (!isObject(raw) || typeof raw.class_name !== 'string' || !isObject(raw.config)) {
      throw new ConversionError(`${what}: layer ${layers.length} of the config is not a serialized Keras layer`);
    }
    const where = describe(raw);
    refuseCode(raw, where, what);
    if (!KNOWN_LAYER_CLASSES.has(raw.class_name)) {
      throw new ConversionError(
        `${what}: ${where} is not a layer modelship converts; supported: ${[...KNOWN_LAYER_CLASSES].sort().join(', ')}`,
      );
    }
    const lname = layerName(raw, what);
    if (seen.has(lname)) throw new ConversionError(`${what}: two layers are named '${lname}'`);
    seen.add(lname);
    layers.push({
      className: raw.class_name,
      name: lname,
      config: raw.config,
      inbound: kind === 'Functional' ? parseInbound(raw, where, what) : [],
    });
  }

  if (kind === 'Sequential') return sequentialGraph(name, layers, serialization, what);

  const byName = new Set(layers.map((l) => l.name));
  for (const l of layers) {
    for (const call of l.inbound) {
      for (const ref of call) {
        if (!byName.has(ref.layer))
          throw new ConversionError(`${what}: layer '${l.name}' takes its input from '${ref.layer}', which the config does not define`);
      }
    }
  }
  const inputs = refList(body.input_layers, 'input_layers', what);
  const outputs = refList(body.output_layers, 'output_layers', what);
  for (const ref of [...inputs, ...outputs]) {
    if (!byName.has(ref.layer))
      throw new ConversionError(`${what}: the model's inputs or outputs name '${ref.layer}', which the config does not define`);
  }
  return { kind, name, layers, inputs, outputs, serialization };
}

/** A Sequential model is a chain: each layer takes the one before; the first takes the InputLayer. */
function sequentialGraph(name: string, listed: KerasLayer[], serialization: 'keras3' | 'keras2', what: string): KerasModelGraph {
  if (listed.length === 0) throw new ConversionError(`${what}: the Sequential model has no layers`);
  const layers = [...listed];
  if (layers[0].className !== 'InputLayer') {
    // Keras 2 put the input shape on the first layer (batch_input_shape); Keras 3 in its build config.
    const shape = layers[0].config.batch_input_shape ?? layers[0].config.batch_shape;
    if (!Array.isArray(shape))
      throw new ConversionError(`${what}: the Sequential model declares no input shape (no InputLayer, no batch_input_shape)`);
    layers.unshift({
      className: 'InputLayer',
      name: `${name}_input`,
      config: { batch_shape: shape, dtype: layers[0].config.dtype ?? 'float32' },
      inbound: [],
    });
  }
  const chained = layers.map((l, i) => (i === 0 ? l : { ...l, inbound: [[{ layer: layers[i - 1].name, nodeIndex: 0, tensorIndex: 0 }]] }));
  const first = { layer: chained[0].name, nodeIndex: 0, tensorIndex: 0 };
  const last = { layer: chained[chained.length - 1].name, nodeIndex: 0, tensorIndex: 0 };
  return { kind: 'Sequential', name, layers: chained, inputs: [first], outputs: [last], serialization };
}
