/**
 * `buildSageMakerArtifact`: the model.tar.gz SageMaker's Triton container unpacks into its model
 * repository. The same package and options always give the same bytes.
 */
import { writeDeterministicTarGz } from './deterministic-tar-gz';
import { tritonModelFiles } from './model-files';
import { CONFIG_FILE, MODEL_VERSION_DIR, TRITON_MODEL_FILE } from './repository';
import type { SageMakerArtifact, TritonModelConfigOptions } from './types';
import { WARMUP_DIR } from './warmup';

/**
 * Writes `<name>/config.pbtxt`, the warm-up inputs `<name>/warmup/*` and `<name>/1/model.onnx`, in that order, to `outFile` as a
 * deterministic .tar.gz and returns its sha256. The model is checked against the manifest's sha256
 * as it is read; a model that fails is refused with a PackageError and no file is left at `outFile`.
 */
export async function buildSageMakerArtifact(
  packageDir: string,
  outFile: string,
  options: TritonModelConfigOptions = {},
): Promise<SageMakerArtifact> {
  const { manifest, configText, warmupFiles, model } = await tritonModelFiles(packageDir, options);
  const entries = [
    { name: `${manifest.name}/${CONFIG_FILE}`, data: Buffer.from(configText, 'utf8') },
    ...warmupFiles.map((f) => ({ name: `${manifest.name}/${WARMUP_DIR}/${f.name}`, data: f.data })),
    { name: `${manifest.name}/${MODEL_VERSION_DIR}/${TRITON_MODEL_FILE}`, size: model.bytes, chunks: model.chunks() },
  ];
  const { sha256, bytes } = await writeDeterministicTarGz(entries, outFile);
  return { file: outFile, sha256, bytes, entries: entries.map((e) => e.name) };
}
