/**
 * Derives a Triton model configuration from a package manifest: which datatypes and dims each tensor
 * has, whether the model batches, and the dynamic batcher and instance group settings.
 */
import type { Manifest, TensorSpec } from '../package/manifest';
import { TRITON_DATA_TYPE } from './datatype-map';
import type { TritonModelConfig, TritonModelConfigOptions, TritonTensorConfig } from './types';

export const DEFAULT_MAX_BATCH_SIZE = 64;
export const DEFAULT_PREFERRED_BATCH_SIZES: readonly number[] = [8, 16, 32, 64];
export const DEFAULT_MAX_QUEUE_DELAY_MICROSECONDS = 100;
export const DEFAULT_INSTANCE_COUNT = 1;

const INT32_MAX = 0x7fffffff;

function checkInteger(option: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${option} must be an integer, got ${String(value)}`);
  if (value < min || value > max) throw new RangeError(`${option} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** True when every input and output has a dynamic first dimension, which Triton can then batch on. */
export function canBatch(manifest: Pick<Manifest, 'inputs' | 'outputs'>): boolean {
  return [...manifest.inputs, ...manifest.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
}

function preferredSizes(options: TritonModelConfigOptions, maxBatchSize: number): number[] {
  if (options.preferredBatchSizes === undefined) {
    const capped = DEFAULT_PREFERRED_BATCH_SIZES.filter((s) => s <= maxBatchSize);
    return capped.length > 0 ? capped : [maxBatchSize];
  }
  if (!Array.isArray(options.preferredBatchSizes) || options.preferredBatchSizes.length === 0) {
    throw new RangeError('preferredBatchSizes must list at least one batch size');
  }
  const sizes = options.preferredBatchSizes.map((s: number) => checkInteger(`preferredBatchSizes entry`, s, 1, INT32_MAX));
  const tooLarge = sizes.filter((s) => s > maxBatchSize);
  if (tooLarge.length > 0) {
    throw new RangeError(`preferredBatchSizes ${tooLarge.join(', ')} exceed maxBatchSize ${maxBatchSize}`);
  }
  // Sorted and without repeats, so that the same set of sizes always gives the same text.
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function tensorConfig(spec: TensorSpec, batching: boolean): TritonTensorConfig {
  const dims = batching ? spec.shape.slice(1) : [...spec.shape];
  const base = { name: spec.name, dataType: TRITON_DATA_TYPE[spec.datatype] };
  // Triton rejects empty dims; a tensor with no dimension of its own is stated as [1] reshaped to [].
  return dims.length === 0 ? { ...base, dims: [1], reshape: [] } : { ...base, dims };
}

/**
 * The Triton configuration for a package. Throws a TypeError or RangeError naming the option when
 * an option is not a valid value.
 */
export function buildModelConfig(manifest: Manifest, options: TritonModelConfigOptions = {}): TritonModelConfig {
  const requestedMax = checkInteger('maxBatchSize', options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE, 0, INT32_MAX);
  const delay = checkInteger(
    'maxQueueDelayMicroseconds',
    options.maxQueueDelayMicroseconds ?? DEFAULT_MAX_QUEUE_DELAY_MICROSECONDS,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const count = checkInteger('instanceCount', options.instanceCount ?? DEFAULT_INSTANCE_COUNT, 1, INT32_MAX);
  const kind = options.instanceKind ?? 'KIND_GPU';
  if (kind !== 'KIND_GPU' && kind !== 'KIND_CPU') throw new TypeError(`instanceKind must be KIND_GPU or KIND_CPU, got ${String(kind)}`);
  const preferred = requestedMax > 0 ? preferredSizes(options, requestedMax) : [];

  const batching = requestedMax > 0 && canBatch(manifest);
  return {
    name: manifest.name,
    platform: 'onnxruntime_onnx',
    maxBatchSize: batching ? requestedMax : 0,
    inputs: manifest.inputs.map((t) => tensorConfig(t, batching)),
    outputs: manifest.outputs.map((t) => tensorConfig(t, batching)),
    dynamicBatching: batching ? { preferredBatchSizes: preferred, maxQueueDelayMicroseconds: delay } : undefined,
    instanceGroup: { count, kind },
    source: { version: manifest.version, sha256: manifest.model.sha256 },
  };
}
