/**
 * Builds the tfjs twin of a Keras model: the same layers, from the same config, holding the same
 * weights. It is the reference the converter checks its ONNX against (Keras cannot run in Node), and
 * the trainable view of the model. tfjs reads the Keras 2 serialization, so the Keras 3 config is
 * rewritten into it first: no code is involved, only the JSON's shape changes.
 */
import * as tf from '@tensorflow/tfjs';
import { ConversionError } from '../errors';
import type { KerasLayer, KerasModelGraph } from './keras-config';
import type { KerasModelFile } from './read-keras-model';
import { KERAS3_ACTIVATION_RENAMES } from './reference';

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
  'shared_object_id',
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

const ACTIVATION_KEYS = new Set(['activation', 'recurrent_activation']);

/** Keras 3 activation names that tfjs spells the same but computes differently get the reference's name. */
function renameKeras3Activations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renameKeras3Activations);
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = ACTIVATION_KEYS.has(k) && typeof v === 'string' ? (KERAS3_ACTIVATION_RENAMES[v] ?? v) : renameKeras3Activations(v);
  }
  return out;
}

/** Two layer configs alike but for their names and direction. */
function mirrored(forward: Json, backward: Json): boolean {
  const strip = (c: Json) => JSON.stringify({ ...c, name: undefined, go_backwards: undefined });
  return strip(forward) === strip(backward) && Boolean(forward.go_backwards) !== Boolean(backward.go_backwards);
}

function layerConfig(layer: KerasLayer, serialization: KerasModelGraph['serialization']): Json {
  const out = toKeras2(serialization === 'keras3' ? renameKeras3Activations(layer.config) : layer.config) as Json;
  if (layer.className === 'InputLayer' && 'batch_shape' in out) {
    out.batch_input_shape = out.batch_shape;
    delete out.batch_shape;
  }
  // Keras 3 always writes the backward layer; tfjs builds it from the forward one, which is the same when it mirrors it.
  if (layer.className === 'Bidirectional' && out.backward_layer !== undefined && out.backward_layer !== null) {
    const forward = isObject(out.layer) && isObject(out.layer.config) ? out.layer : undefined;
    const backward = isObject(out.backward_layer) && isObject(out.backward_layer.config) ? out.backward_layer : undefined;
    if (!forward || !backward || forward.class_name !== backward.class_name || !mirrored(forward.config as Json, backward.config as Json)) {
      throw new ConversionError(
        `layer '${layer.name}' (Bidirectional): a backward_layer other than the forward layer run backwards is not supported`,
      );
    }
    delete out.backward_layer;
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
        config: layerConfig(l, graph.serialization),
        inbound_nodes: l.inbound.map((call) => call.map((r) => [...ref(r), {}])),
      })),
      input_layers: graph.inputs.map(ref),
      output_layers: graph.outputs.map(ref),
    },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
}

/** The tfjs model of a Keras file, holding its weights. The caller disposes it. */
export async function buildTfjsModel(file: KerasModelFile, what: string): Promise<tf.LayersModel> {
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
