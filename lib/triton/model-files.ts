/**
 * What a Triton model directory holds for a package, built once for both writers (repository.ts for ECS
 * and `modelship triton`, sagemaker-artifact.ts for SageMaker): config.pbtxt, the warm-up inputs and the
 * model, read while its sha256 is checked.
 */
import { readManifest, type Manifest } from '../package/manifest';
import { buildModelConfig } from './model-config';
import { renderModelConfig } from './pbtxt';
import type { TritonModelConfig, TritonModelConfigOptions } from './types';
import { openVerifiedModel, type VerifiedModel } from './verified-model';
import { tritonWarmup, type WarmupFile } from './warmup';

export interface TritonModelFiles {
  readonly manifest: Manifest;
  readonly config: TritonModelConfig;
  readonly configText: string;
  /** Files for `<model>/warmup/`, named as config.pbtxt's `input_data_file`s name them. */
  readonly warmupFiles: readonly WarmupFile[];
  readonly model: VerifiedModel;
}

export async function tritonModelFiles(packageDir: string, options: TritonModelConfigOptions = {}): Promise<TritonModelFiles> {
  const manifest = readManifest(packageDir);
  const base = buildModelConfig(manifest, options);
  const warmup = await tritonWarmup(packageDir, manifest, base);
  const config = warmup === undefined ? base : { ...base, modelWarmup: [warmup.sample] };
  const model = await openVerifiedModel(packageDir, manifest);
  return { manifest, config, configText: renderModelConfig(config), warmupFiles: warmup?.files ?? [], model };
}
