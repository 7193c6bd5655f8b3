/**
 * `writeTritonRepository`: a package becomes a Triton model repository entry,
 * `<outDir>/<name>/config.pbtxt` and `<outDir>/<name>/1/model.onnx`.
 */
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readManifest } from '../package/manifest';
import { buildModelConfig } from './model-config';
import { renderModelConfig } from './pbtxt';
import type { TritonRepository, TritonRepositoryOptions } from './types';
import { openVerifiedModel } from './verified-model';

export const CONFIG_FILE = 'config.pbtxt';
export const MODEL_VERSION_DIR = '1';
/** The file name Triton's ONNX Runtime backend loads by default. */
export const TRITON_MODEL_FILE = 'model.onnx';

function errorWithCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Writes the Triton repository entry for the package in `packageDir` under `outDir`. The model's
 * sha256 is checked against the manifest while it is copied; a model that fails it is refused with
 * a PackageError and nothing is written. Options that are not valid values throw a TypeError or
 * RangeError naming the option. An existing `<outDir>/<name>` is refused (error code EEXIST) unless
 * `overwrite` is set.
 */
export async function writeTritonRepository(
  packageDir: string,
  outDir: string,
  options: TritonRepositoryOptions = {},
): Promise<TritonRepository> {
  const manifest = readManifest(packageDir);
  const config = buildModelConfig(manifest, options);
  const configText = renderModelConfig(config);
  const model = await openVerifiedModel(packageDir, manifest);

  const modelDir = join(outDir, manifest.name);
  const exists = await stat(modelDir).then(() => true, () => false);
  if (exists && options.overwrite !== true) {
    throw errorWithCode(`${modelDir} already exists; choose another output directory or overwrite it`, 'EEXIST');
  }
  if (exists && isInside(resolve(packageDir), resolve(modelDir))) {
    throw errorWithCode(`${modelDir} holds the package ${packageDir} itself; write the repository somewhere else`, 'EINVAL');
  }

  await mkdir(outDir, { recursive: true });
  // Built next to its final place, then moved there: a failure leaves any earlier repository as it was.
  const staging = join(outDir, `.${manifest.name}.partial-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(join(staging, MODEL_VERSION_DIR), { recursive: true });
    await pipeline(model.chunks(), createWriteStream(join(staging, MODEL_VERSION_DIR, TRITON_MODEL_FILE)));
    await writeFile(join(staging, CONFIG_FILE), configText);
    if (exists) await rm(modelDir, { recursive: true, force: true });
    await rename(staging, modelDir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return {
    modelDir,
    configPath: join(modelDir, CONFIG_FILE),
    modelPath: join(modelDir, MODEL_VERSION_DIR, TRITON_MODEL_FILE),
    config,
    configText,
  };
}
