/** GPU packages for construct tests: the tiny MLP fixture, packaged with target gpu. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPackage } from '../../lib/package/create';
import { tinyMlpOnnx, tempDir } from '../helpers/fixtures';

export interface GpuPackageOptions {
  readonly name?: string;
  readonly version?: string;
  readonly seed?: number;
  readonly gpuPlatform?: 'sagemaker' | 'ecs';
}

/** A gpu-target package of the tiny MLP (x [batch, 4] -> logits, probabilities), with golden samples. */
export async function makeGpuPackage(options: GpuPackageOptions = {}): Promise<string> {
  const parent = tempDir('modelship-gpu-');
  const name = options.name ?? 'tiny-gpu';
  const modelPath = join(parent, 'model.onnx');
  writeFileSync(modelPath, tinyMlpOnnx(options.seed));
  const outDir = join(parent, name);
  await createPackage({ modelPath, name, version: options.version ?? '1.0.0', outDir, target: 'gpu', gpuPlatform: options.gpuPlatform });
  return outDir;
}
