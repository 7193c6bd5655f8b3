/**
 * `modelship package MODEL.keras|MODEL.h5`: converts the Keras file to ONNX in a private temporary
 * directory (checked against its tfjs twin like `convert`), hands the ONNX to the packager with the
 * source recorded, and removes the temporary file whatever happens.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../package/manifest';
import { convertModelFile } from './convert-model-file';

/** Converts `kerasPath`, calls `pack` with the ONNX path and the source to record, then cleans up. */
export async function withConvertedKeras<T>(
  kerasPath: string,
  options: { readonly configPath?: string; readonly checkSamples?: number },
  pack: (
    onnxPath: string,
    source: NonNullable<Manifest['source']>,
    report: { maxAbsDiff: number; layers: readonly string[] },
  ) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'modelship-convert-'));
  try {
    const onnxPath = join(dir, 'model.onnx');
    const result = await convertModelFile(kerasPath, onnxPath, { configPath: options.configPath, checkSamples: options.checkSamples });
    if (result.source.format !== 'keras') throw new Error(`${kerasPath} was detected as Keras but converted as ${result.source.format}`);
    const { container, kerasVersion, sha256 } = result.source;
    return await pack(onnxPath, { format: 'keras', container, ...(kerasVersion ? { kerasVersion } : {}), sha256 }, result);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
