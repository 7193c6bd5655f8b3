/**
 * The onnxruntime session options for a package. A package quantized weight-only (int8-weights, and
 * int8-dynamic's Conv) holds DequantizeLinear nodes on constant weights; onnxruntime keeps them, to
 * fuse QDQ patterns, and so dequantizes every weight on every run (about 2x slower than fp32 on the
 * example MLP). With its QDQ transformers off, constant folding dequantizes them once at load: int8
 * on disk, float32 in memory, fp32 speed. No modelship package holds the full QDQ pattern those
 * transformers are for.
 */
import type * as ort from 'onnxruntime-node';
import type { Manifest } from '../package/manifest';
import { type Env, readEnv } from '../util/env';

/** The intra-op thread count a Lambda function's memory gives (LambdaModel sets it; lib/constructs/private/sizing.ts). */
export const ORT_THREADS_ENV = 'MODEL_ORT_THREADS';

/**
 * The thread counts `env` sets, or none (onnxruntime's defaults). One inter-op thread: the models run
 * one node after another, and a second pool would only take a core from the first.
 */
export function threadOptionsFromEnv(env: Env = process.env): ort.InferenceSession.SessionOptions {
  const raw = readEnv(env, ORT_THREADS_ENV);
  if (raw === undefined) return {};
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`${ORT_THREADS_ENV} must be a whole number of threads, at least 1; got '${raw}'`);
  return { intraOpNumThreads: threads, interOpNumThreads: 1 };
}

const DEQUANTIZED_AT_LOAD: ReadonlyArray<NonNullable<Manifest['compression']>['method']> = ['int8-weights', 'int8-dynamic'];

export function sessionOptionsFor(manifest: Pick<Manifest, 'compression'>): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  if (manifest.compression && DEQUANTIZED_AT_LOAD.includes(manifest.compression.method)) {
    return { ...options, extra: { session: { disable_quant_qdq: '1' } } };
  }
  return options;
}
