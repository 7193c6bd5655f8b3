/**
 * Reads a Keras model file, whatever Keras wrote: a Keras 3 `.keras` zip, a full-model `.h5` (Keras 3's
 * or Keras 2's layout), or a `.weights.h5` with its config given separately. The format comes from the
 * file's bytes. What comes back is data only: the layer graph, each layer's weights, and where it came
 * from. Nothing in the file is executed (keras-config.ts refuses anything that would need code).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConversionError } from '../errors';
import { openHdf5, stringAttribute, childGroup, childNames } from './hdf5-reader';
import { parseKerasConfig, type KerasModelGraph } from './keras-config';
import { checkFiniteWeights, readKeras3Weights, readLegacyWeights, type LayerWeights } from './keras-weights';
import { readKerasZip, type KerasZipLimits } from './keras-zip';
import { detectModelFormat } from './model-format';

export interface KerasSource {
  /** `keras` (a .keras zip), `h5` (a full legacy model), or `weights-h5` (weights plus a separate config). */
  readonly container: 'keras' | 'h5' | 'weights-h5';
  /** The Keras version that wrote the file, from its metadata; undefined for a weights-only file. */
  readonly kerasVersion?: string;
  /** The sha256 of the model file, as read. */
  readonly sha256: string;
}

export interface KerasModelFile {
  readonly source: KerasSource;
  readonly graph: KerasModelGraph;
  readonly weights: LayerWeights;
}

export interface ReadKerasOptions extends KerasZipLimits {
  /** The model config (model.to_json()) for a weights-only file. */
  readonly configPath?: string;
}

/** Keras majors whose file layouts this reader follows. */
const SUPPORTED_KERAS_MAJORS = [2, 3];

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConversionError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function checkKerasVersion(version: unknown, what: string): string {
  if (typeof version !== 'string' || !/^\d+\.\d+/.test(version)) {
    throw new ConversionError(`${what}: the Keras version it records (${JSON.stringify(version)}) is not a version modelship can read`);
  }
  const major = Number(version.split('.')[0]);
  if (!SUPPORTED_KERAS_MAJORS.includes(major)) {
    throw new ConversionError(
      `${what} was written by Keras ${version}; modelship reads the layouts of Keras ${SUPPORTED_KERAS_MAJORS.join(' and ')}`,
    );
  }
  return version;
}

async function readConfigFile(path: string | undefined, what: string): Promise<unknown> {
  if (path === undefined) {
    throw new ConversionError(
      `${what} holds weights only; give the model's config (model.to_json(), or config.json from a .keras file) with --config FILE`,
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConversionError(`cannot read the config ${path}: ${(err as Error).message}`);
  }
  return parseJson(text, path);
}

/** Reads a Keras model file. Throws a ConversionError naming the file and the problem on anything else. */
export async function readKerasModelFile(path: string, options: ReadKerasOptions = {}): Promise<KerasModelFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ConversionError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return readKerasModelBytes(bytes, path, options);
}

export async function readKerasModelBytes(bytes: Buffer, what: string, options: ReadKerasOptions = {}): Promise<KerasModelFile> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const format = detectModelFormat(bytes);
  let result: { source: KerasSource; graph: KerasModelGraph; weights: LayerWeights };
  if (format === 'zip') {
    const zip = await readKerasZip(bytes, what, options);
    const metadata = parseJson(zip['metadata.json'].toString('utf8'), `${what}: metadata.json`) as { keras_version?: unknown } | null;
    const kerasVersion = checkKerasVersion(metadata?.keras_version, what);
    const graph = parseKerasConfig(parseJson(zip['config.json'].toString('utf8'), `${what}: config.json`), what);
    const root = openHdf5(zip['model.weights.h5'], `${what}: model.weights.h5`);
    const weights = readKeras3Weights(root, graph, `${what}: model.weights.h5`);
    result = { source: { container: 'keras', kerasVersion, sha256 }, graph, weights };
  } else if (format === 'hdf5') {
    const root = openHdf5(bytes, what);
    const modelConfig = stringAttribute(root, 'model_config', what);
    if (modelConfig !== undefined) {
      const kerasVersion = checkKerasVersion(stringAttribute(root, 'keras_version', what), what);
      const graph = parseKerasConfig(parseJson(modelConfig, `${what}: model_config`), what);
      const group = childGroup(root, 'model_weights', what);
      if (!group) throw new ConversionError(`${what} has a model_config but no model_weights group`);
      result = { source: { container: 'h5', kerasVersion, sha256 }, graph, weights: readLegacyWeights(group, graph, what) };
    } else {
      const graph = parseKerasConfig(await readConfigFile(options.configPath, what), options.configPath ?? what);
      const legacy = childNames(root, what).includes('layers') ? undefined : root;
      const weights = legacy ? readLegacyWeights(legacy, graph, what) : readKeras3Weights(root, graph, what);
      const kerasVersion = legacy ? stringAttribute(root, 'keras_version', what) : undefined;
      result = { source: { container: 'weights-h5', kerasVersion, sha256 }, graph, weights };
    }
  } else if (format === 'json') {
    throw new ConversionError(
      `${what} is JSON, not a Keras file: a tfjs model.json is converted by the tfjs path, and a Keras config needs its weights (FILE.weights.h5 --config ${what})`,
    );
  } else {
    throw new ConversionError(
      `${what} is neither a .keras zip, an HDF5 file, nor a tfjs model.json (its first bytes are ${[...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ') || 'missing: the file is empty'})`,
    );
  }
  checkFiniteWeights(result.weights, what);
  return result;
}
