/**
 * Reads and writes tfjs layers models on the local disk. Pure @tensorflow/tfjs only has browser and
 * HTTP handlers (file:// comes with tfjs-node, whose native binary we do not ship), so these two
 * IOHandlers do the same job with node:fs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConversionError } from './errors';

const WEIGHTS_FILE = 'weights.bin';

/** An IOHandler for tf.loadLayersModel that reads model.json and its weight shards from disk. */
export function fileLoader(modelJsonPath: string): tf.io.IOHandler {
  return {
    load: async () => {
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await fs.promises.readFile(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new ConversionError(`cannot read tfjs model ${modelJsonPath}: ${(err as Error).message}`);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new ConversionError(`${modelJsonPath} is not a tfjs layers model.json (no modelTopology or weightsManifest)`);
      }
      const dir = path.dirname(modelJsonPath);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const shards: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const bytes = await fs.promises.readFile(path.join(dir, p));
            shards.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(shards)];
      });
    },
  };
}

/** An IOHandler for model.save that writes `dir`/model.json and `dir`/weights.bin. */
export function fileSaver(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    await fs.promises.mkdir(dir, { recursive: true });
    const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const json: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      trainingConfig: artifacts.trainingConfig,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
    };
    await fs.promises.writeFile(path.join(dir, WEIGHTS_FILE), new Uint8Array(weights));
    await fs.promises.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weights.byteLength,
      },
    };
  });
}

/** Loads a tfjs layers model from a model.json path on disk. */
export function loadLayersModelFromFile(modelJsonPath: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileLoader(modelJsonPath));
}
