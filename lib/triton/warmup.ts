/**
 * Triton's model warm-up (config.pbtxt `model_warmup`, model_config.proto's ModelWarmup) from the package's
 * first golden sample, so that every Triton instance has run the model once before it serves, as the
 * local server and Lambda do (lib/engine/warm-up.ts). Triton reads each input from a raw file under the
 * model's `warmup/` directory: the row-major bytes the binary extension uses, BYTES length-prefixed.
 * Triton only runs the sample; its answer is checked by the golden-sample gates before traffic.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../package/manifest';
import { decodeInferRequest } from '../protocol/decode';
import { binaryData } from '../protocol/encode';
import type { Tensor } from '../protocol/types';
import { TRITON_DATA_TYPE } from './datatype-map';
import type { TritonModelConfig, TritonWarmupSample } from './types';

/** The directory under the model's, where Triton looks for `input_data_file`. */
export const WARMUP_DIR = 'warmup';

/** A file of raw input data for the warm-up, relative to WARMUP_DIR. */
export interface WarmupFile {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface TritonWarmup {
  readonly sample: TritonWarmupSample;
  readonly files: readonly WarmupFile[];
}

/**
 * The first element of a batched tensor: Triton's warm-up states one batch element and repeats it to
 * `batch_size`, so the sample's first row warms the model at batch 1.
 */
function firstRow(t: Tensor): { shape: number[]; data: Uint8Array } {
  const rowShape = t.shape.slice(1);
  const perRow = rowShape.reduce((n, d) => n * d, 1);
  const data = t.data.slice(0, perRow) as Tensor['data'];
  return { shape: rowShape, data: binaryData({ datatype: t.datatype, data }) };
}

/**
 * The warm-up for `config` from the package's first golden sample, or undefined for a package without
 * samples (Triton then loads without one, as before). The sample was checked against the manifest when
 * it was recorded; it is decoded here by the same codec that serves, so a sample that no longer fits
 * the model is refused with that codec's error.
 */
export async function tritonWarmup(packageDir: string, manifest: Manifest, config: TritonModelConfig): Promise<TritonWarmup | undefined> {
  const sample = manifest.samples[0];
  if (sample === undefined) return undefined;
  const body = await readFile(join(packageDir, sample.request));
  const request = decodeInferRequest(body, {}, manifest);
  const batching = config.maxBatchSize > 0;
  const files: WarmupFile[] = [];
  const inputs = request.inputs.map((t, i) => {
    const { shape, data } = batching ? firstRow(t) : { shape: [...t.shape], data: binaryData(t) };
    const file = `input-${i}`;
    files.push({ name: file, data });
    // A tensor with no dimension of its own is stated as [1], as in the config's own dims (model-config.ts).
    return { name: t.name, dataType: TRITON_DATA_TYPE[t.datatype], dims: shape.length === 0 ? [1] : shape, inputDataFile: file };
  });
  return { sample: { name: sample.request, batchSize: 1, inputs }, files };
}
