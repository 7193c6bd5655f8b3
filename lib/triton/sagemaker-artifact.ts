/**
 * `buildSageMakerArtifact`: the model.tar.gz SageMaker's Triton container unpacks into its model
 * repository. The same package and options always give the same bytes.
 */
import { readManifest } from '../package/manifest';
import { writeDeterministicTarGz } from './deterministic-tar-gz';
import { buildModelConfig } from './model-config';
import { renderModelConfig } from './pbtxt';
import { CONFIG_FILE, MODEL_VERSION_DIR, TRITON_MODEL_FILE } from './repository';
import type { SageMakerArtifact, TritonModelConfigOptions } from './types';
import { openVerifiedModel } from './verified-model';

/**
 * Writes `<name>/config.pbtxt` and `<name>/1/model.onnx`, in that order, to `outFile` as a
 * deterministic .tar.gz and returns its sha256. The model is checked against the manifest's sha256
 * as it is read; a model that fails is refused with a PackageError and no file is left at `outFile`.
 */
export async function buildSageMakerArtifact(
  packageDir: string,
  outFile: string,
  options: TritonModelConfigOptions = {},
): Promise<SageMakerArtifact> {
  const manifest = readManifest(packageDir);
  const configText = renderModelConfig(buildModelConfig(manifest, options));
  const model = await openVerifiedModel(packageDir, manifest);
  const entries = [
    { name: `${manifest.name}/${CONFIG_FILE}`, data: Buffer.from(configText, 'utf8') },
    { name: `${manifest.name}/${MODEL_VERSION_DIR}/${TRITON_MODEL_FILE}`, size: model.bytes, chunks: model.chunks() },
  ];
  const { sha256, bytes } = await writeDeterministicTarGz(entries, outFile);
  return { file: outFile, sha256, bytes, entries: entries.map((e) => e.name) };
}
