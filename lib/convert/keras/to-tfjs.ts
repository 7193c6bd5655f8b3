/**
 * Builds the tfjs twin of a Keras model: the same layers, from the same config, holding the same
 * weights. It is the reference the converter checks its ONNX against (Keras cannot run in Node), and
 * the trainable view of the model. tfjs reads the Keras 2 serialization, so the Keras 3 config is
 * rewritten into it first: no code is involved, only the JSON's shape changes.
 */
import * as tf from '@tensorflow/tfjs';
import { ConversionError } from '../errors';
import type { KerasModelGraph } from './keras-config';
import type { KerasModelFile } from './read-keras-model';

type Json = Record<string, unknown>;

/** Keys of Keras 3 configs that tfjs does not know and that do not change what a trained layer computes. */
const KERAS3_ONLY_KEYS = new Set([
  'module',
  'registered_name',
  'build_config',
  'compile_config',
  'quantization_config',
  'optional',
  'synchronized',
  'lora_rank',
  'lora_alpha',
]);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keras 3 serialized objects into Keras 2's: {module, class_name, config, registered_name} -> {class_name, config}. */
function toKeras2(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toKeras2);
  if (!isObject(value)) return value;
  // A dtype policy ({"class_name": "DTypePolicy", "config": {"name": "float32"}}) was a plain dtype name.
  if (value.class_name === 'DTypePolicy' && isObject(value.config) && typeof value.config.name === 'string') return value.config.name;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) if (!KERAS3_ONLY_KEYS.has(k)) out[k] = toKeras2(v);
  return out;
}

function layerConfig(className: string, config: Readonly<Json>): Json {
  const out = toKeras2(config) as Json;
  if (className === 'InputLayer' && 'batch_shape' in out) {
    out.batch_input_shape = out.batch_shape;
    delete out.batch_shape;
  }
  return out;
}

/** The graph as the Keras 2 functional topology tfjs's Model.fromConfig reads. */
export function tfjsTopology(graph: KerasModelGraph): Json {
  const ref = (r: { layer: string; nodeIndex: number; tensorIndex: number }) => [r.layer, r.nodeIndex, r.tensorIndex];
  return {
    class_name: 'Model',
    config: {
      name: graph.name,
      layers: graph.layers.map((l) => ({
        class_name: l.className,
        name: l.name,
        config: layerConfig(l.className, l.config),
        inbound_nodes: l.inbound.map((call) => call.map((r) => [...ref(r), {}])),
      })),
      input_layers: graph.inputs.map(ref),
      output_layers: graph.outputs.map(ref),
    },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
}

/**
 * Names whose meaning changed between Keras 2 (which tfjs follows) and Keras 3. Keras 3's hard_sigmoid
 * is relu6(x + 3) / 6; tfjs's is 0.2x + 0.5. Mirroring it would give a twin and a graph that agree with
 * each other and not with Keras, so it is refused until a reference of Keras 3's definition exists.
 */
const KERAS3_CHANGED_ACTIVATIONS = new Set(['hard_sigmoid']);

function refuseChangedMeanings(graph: KerasModelGraph, what: string): void {
  if (graph.serialization !== 'keras3') return;
  for (const layer of graph.layers) {
    const activation = layer.config.activation;
    if (typeof activation === 'string' && KERAS3_CHANGED_ACTIVATIONS.has(activation)) {
      throw new ConversionError(
        `${what}: layer '${layer.name}' (${layer.className}) uses Keras 3's '${activation}', which tfjs computes differently (Keras 2's definition); it is not converted yet`,
      );
    }
  }
}

/** The tfjs model of a Keras file, holding its weights. The caller disposes it. */
export async function buildTfjsModel(file: KerasModelFile, what: string): Promise<tf.LayersModel> {
  refuseChangedMeanings(file.graph, what);
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: tfjsTopology(file.graph) } as unknown as tf.io.ModelJSON);
  } catch (err) {
    throw new ConversionError(`${what}: tfjs cannot build the model from its config: ${(err as Error).message}`);
  }
  try {
    for (const layer of model.layers) {
      const weights = file.weights.get(layer.name) ?? [];
      const expected = layer.weights;
      if (expected.length !== weights.length) {
        throw new ConversionError(
          `${what}: layer '${layer.name}' (${layer.getClassName()}) has ${weights.length} weight(s) in the file; its config needs ${expected.length}`,
        );
      }
      weights.forEach((w, i) => {
        const shape = expected[i].shape;
        if (shape.length !== w.shape.length || shape.some((d, j) => d !== w.shape[j])) {
          throw new ConversionError(
            `${what}: weight ${w.path} of layer '${layer.name}' has shape [${w.shape.join(', ')}]; its config needs [${shape.join(', ')}]`,
          );
        }
      });
      if (weights.length > 0) layer.setWeights(weights.map((w) => tf.tensor(w.data, [...w.shape], 'float32')));
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
