/**
 * Reads a model's weights, per layer, in the order Keras's `layer.weights` lists them (kernel, then
 * recurrent kernel, then bias; a Bidirectional's forward layer, then its backward one), from the two
 * layouts Keras writes:
 *  - Keras 3's model.weights.h5 (keras/src/saving/saving_lib.py): `layers/<key>/vars/<i>`, where
 *    `<key>` is not the layer's name but its class in snake_case, numbered in the model's layer order
 *    (dense, dense_1, ...), and nested objects (an RNN's cell) are subgroups;
 *  - the legacy HDF5 layout of Keras 2 and of Keras 3's `model.save('x.h5')`
 *    (keras/src/legacy/saving/legacy_h5_format.py): `model_weights/<layer name>/` with a
 *    `weight_names` attribute listing each weight's path below that group, in order.
 */
import { ConversionError } from '../errors';
import type { KerasModelGraph } from './keras-config';
import { childGroup, childNames, readTensor, stringListAttribute, type Hdf5Group, type WeightTensor } from './hdf5-reader';

export type LayerWeights = ReadonlyMap<string, readonly WeightTensor[]>;

/** keras/src/utils/naming.py to_snake_case, which names the weights file's groups. */
export function kerasSnakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Subobjects in the order their weights come in `layer.weights`; any others follow alphabetically. */
const NESTED_ORDER = ['forward_layer', 'backward_layer', 'cell', 'layer'];

function collectKeras3(group: Hdf5Group, what: string, out: WeightTensor[]): void {
  const names = childNames(group, what);
  const vars = names.includes('vars') ? childGroup(group, 'vars', what) : undefined;
  if (vars) {
    const indices = childNames(vars, what);
    if (!indices.every((n) => /^\d+$/.test(n)))
      throw new ConversionError(`${what}: ${vars.name} holds something other than numbered variables`);
    for (const i of indices.map(Number).sort((a, b) => a - b)) out.push(readTensor(vars, String(i), what));
  }
  const nested = names
    .filter((n) => n !== 'vars')
    .sort((a, b) => {
      const ia = NESTED_ORDER.indexOf(a);
      const ib = NESTED_ORDER.indexOf(b);
      return (ia < 0 ? NESTED_ORDER.length : ia) - (ib < 0 ? NESTED_ORDER.length : ib) || (a < b ? -1 : a > b ? 1 : 0);
    });
  for (const n of nested) {
    const child = childGroup(group, n, what);
    if (child) collectKeras3(child, what, out);
  }
}

/** Weights from a Keras 3 weights file (the root of model.weights.h5). */
export function readKeras3Weights(root: Hdf5Group, graph: KerasModelGraph, what: string): LayerWeights {
  const layersGroup = childGroup(root, 'layers', what);
  if (!layersGroup) throw new ConversionError(`${what}: the weights file has no 'layers' group; is it a Keras 3 .weights.h5?`);
  const counters = new Map<string, number>();
  const weights = new Map<string, WeightTensor[]>();
  const used = new Set<string>();
  for (const layer of graph.layers) {
    // A Sequential model's `layers` leave its InputLayer out, so the weights file does too.
    if (graph.kind === 'Sequential' && layer.className === 'InputLayer') continue;
    const base = kerasSnakeCase(layer.className);
    const n = counters.get(base) ?? 0;
    counters.set(base, n + 1);
    const key = n === 0 ? base : `${base}_${n}`;
    const group = childGroup(layersGroup, key, what);
    const list: WeightTensor[] = [];
    if (group) {
      used.add(key);
      collectKeras3(group, what, list);
    }
    weights.set(layer.name, list);
  }
  const extra = childNames(layersGroup, what).filter((k) => !used.has(k));
  for (const k of extra) {
    const list: WeightTensor[] = [];
    const group = childGroup(layersGroup, k, what);
    if (group) collectKeras3(group, what, list);
    if (list.length > 0)
      throw new ConversionError(
        `${what}: the weights file holds weights for '${k}', which no layer of the config matches; are the config and the weights from the same model?`,
      );
  }
  return weights;
}

/** Weights from the legacy layout: `group` is the file's model_weights group (or the root of a weights-only file). */
export function readLegacyWeights(group: Hdf5Group, graph: KerasModelGraph, what: string): LayerWeights {
  const layerNames = stringListAttribute(group, 'layer_names', what);
  if (layerNames === undefined)
    throw new ConversionError(`${what}: the weights group has no 'layer_names' attribute; is it a Keras .h5 model?`);
  const known = new Set(graph.layers.map((l) => l.name));
  const weights = new Map<string, WeightTensor[]>();
  for (const name of layerNames) {
    const layerGroup = childGroup(group, name, what);
    if (!layerGroup) throw new ConversionError(`${what}: layer_names lists '${name}', but the file has no group for it`);
    const names = stringListAttribute(layerGroup, 'weight_names', what) ?? [];
    if (!known.has(name)) {
      // Keras 3 adds a weightless 'top_level_model_weights' entry.
      if (names.length === 0) continue;
      throw new ConversionError(`${what}: the file holds weights for layer '${name}', which the config does not define`);
    }
    weights.set(
      name,
      names.map((w) => {
        const at = w.lastIndexOf('/');
        const parent = at < 0 ? layerGroup : childGroup(layerGroup, w.slice(0, at), what);
        if (!parent) throw new ConversionError(`${what}: layer '${name}' lists weight '${w}', which the file does not hold`);
        return readTensor(parent, w.slice(at + 1), what);
      }),
    );
  }
  for (const l of graph.layers) if (!weights.has(l.name)) weights.set(l.name, []);
  return weights;
}

/** Refuses weights that are not finite numbers: a NaN would pass every check and answer garbage. */
export function checkFiniteWeights(weights: LayerWeights, what: string): void {
  for (const [layer, list] of weights) {
    for (const t of list) {
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new ConversionError(`${what}: weight ${t.path} of layer '${layer}' holds ${t.data[bad]} at element ${bad}`);
    }
  }
}
