/**
 * `writeTritonRepository`: a package becomes a Triton model repository entry,
 * `<outDir>/<name>/config.pbtxt`, `<outDir>/<name>/1/model.onnx`, and the warm-up inputs under
 * `<outDir>/<name>/warmup/`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { OutputExistsError } from '../errors';
import { recoverInterruptedWrite, writeDirAtomically } from '../util/atomic-dir';
import { tritonModelFiles } from './model-files';
import type { TritonRepository, TritonRepositoryOptions } from './types';
import { WARMUP_DIR } from './warmup';

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
 * RangeError naming the option. An existing `<outDir>/<name>` is refused with an OutputExistsError unless
 * `overwrite` is set.
 */
export async function writeTritonRepository(
  packageDir: string,
  outDir: string,
  options: TritonRepositoryOptions = {},
): Promise<TritonRepository> {
  const { manifest, config, configText, warmupFiles, model } = await tritonModelFiles(packageDir, options);

  const modelDir = join(outDir, manifest.name);
  await recoverInterruptedWrite(modelDir);
  const exists = await stat(modelDir).then(
    () => true,
    () => false,
  );
  const occupied = `${modelDir} already exists; choose another output directory or overwrite it`;
  if (exists && options.overwrite !== true) throw new OutputExistsError(occupied);
  if (exists && isInside(resolve(packageDir), resolve(modelDir))) {
    throw errorWithCode(`${modelDir} holds the package ${packageDir} itself; write the repository somewhere else`, 'EINVAL');
  }

  // Crash-safe (lib/util/atomic-dir.ts): an earlier repository entry stays whole until the new one is.
  await writeDirAtomically(
    modelDir,
    async (staging) => {
      await mkdir(join(staging, MODEL_VERSION_DIR), { recursive: true });
      await pipeline(model.chunks(), createWriteStream(join(staging, MODEL_VERSION_DIR, TRITON_MODEL_FILE)));
      await writeFile(join(staging, CONFIG_FILE), configText);
      if (warmupFiles.length > 0) await mkdir(join(staging, WARMUP_DIR));
      for (const f of warmupFiles) await writeFile(join(staging, WARMUP_DIR, f.name), f.data);
    },
    { replace: exists, occupied },
  );
  return {
    modelDir,
    configPath: join(modelDir, CONFIG_FILE),
    modelPath: join(modelDir, MODEL_VERSION_DIR, TRITON_MODEL_FILE),
    config,
    configText,
    warmupFiles: warmupFiles.map((f) => join(modelDir, WARMUP_DIR, f.name)),
  };
}
