/**
 * Sizes: Lambda's deployment limit, the memory and timeout a model gets by default, and how big an
 * unzipped artifact is. Pure functions, so the rules can be tested without synthesizing anything.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Size } from 'aws-cdk-lib';

const MiB = 1024 * 1024;

/**
 * Lambda's limit on a function's unzipped code plus all its layers: "250 MB", which Lambda counts as
 * 262,144,000 bytes.
 */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * MiB;

/** Lambda's memory range, in MiB. */
export const MIN_MEMORY_MIB = 128;
export const MAX_MEMORY_MIB = 10240;

/** Fewer MiB than this leaves onnxruntime less than ~0.6 vCPU: inference latency suffers before memory does. */
const MEMORY_FLOOR_MIB = 1024;
/** Node, the runtime and onnxruntime's own allocations before a model is loaded. */
const MEMORY_BASE_MIB = 256;
/** The model's bytes, the optimized graph onnxruntime builds from them, and its arena. */
const MEMORY_PER_MODEL_MIB = 3;

/** API Gateway's default integration timeout: a longer function timeout never reaches a caller. */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;
const TIMEOUT_BASE_SECONDS = 10;
/** One more second per this many MiB of model: larger graphs take longer per inference. */
const TIMEOUT_MIB_PER_SECOND = 10;

/** Memory for a model of this size: 256 MiB + 3x the model, in 64 MiB steps, within [1024, 10240]. */
export function defaultMemorySize(modelBytes: number): number {
  const needed = MEMORY_BASE_MIB + MEMORY_PER_MODEL_MIB * (modelBytes / MiB);
  const stepped = Math.ceil(needed / 64) * 64;
  return Math.min(MAX_MEMORY_MIB, Math.max(MEMORY_FLOOR_MIB, stepped));
}

/** Lambda's CPU share: one vCPU's worth per 1,769 MB of memory, at most 6 vCPUs (at 10,240 MB). */
export const MEMORY_MIB_PER_VCPU = 1769;
const MAX_VCPUS = 6;

/**
 * onnxruntime's intra-op threads for a function of `memoryMiB`: the vCPUs its memory buys, to the nearest
 * whole one, from 1 to 6. onnxruntime's own default counts the host's cores, which Lambda shows more of
 * than the share it gives: threads beyond the share only wait for each other.
 */
export function ortThreadsForMemory(memoryMiB: number): number {
  return Math.min(MAX_VCPUS, Math.max(1, Math.round(memoryMiB / MEMORY_MIB_PER_VCPU)));
}

/** Timeout for a model of this size: 10 s plus 1 s per 10 MiB, at most API Gateway's 29 s. */
export function defaultTimeout(modelBytes: number): Duration {
  const seconds = TIMEOUT_BASE_SECONDS + Math.ceil(modelBytes / MiB / TIMEOUT_MIB_PER_SECOND);
  return Duration.seconds(Math.min(API_GATEWAY_TIMEOUT_SECONDS, seconds));
}

/** Lambda's /tmp range, in MiB. */
const MIN_EPHEMERAL_MIB = 512;
const MAX_EPHEMERAL_MIB = 10240;
/** A registry package's /tmp floor: room for a model whose size synth was not told. */
const REGISTRY_EPHEMERAL_FLOOR_MIB = 1024;
/** The downloaded tarball, the unpacked package beside it, and a margin. */
const EPHEMERAL_PER_MODEL = 3;
const EPHEMERAL_BASE_MIB = 256;

/** /tmp for a registry package: 256 MiB + 3x the model, in 64 MiB steps, within [1024, 10240] MiB. */
export function defaultEphemeralStorage(modelBytes: number): Size {
  const needed = EPHEMERAL_BASE_MIB + EPHEMERAL_PER_MODEL * (modelBytes / MiB);
  const stepped = Math.ceil(needed / 64) * 64;
  return Size.mebibytes(Math.min(MAX_EPHEMERAL_MIB, Math.max(REGISTRY_EPHEMERAL_FLOOR_MIB, MIN_EPHEMERAL_MIB, stepped)));
}

/** Total bytes of the regular files under `path` (or of `path` itself when it is a file). */
export function diskBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += diskBytes(join(path, entry));
  return total;
}

/** "47.3 MiB (49,612,345 bytes)": both, so that a limit check can be followed to the byte. */
export function formatBytes(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB (${bytes.toLocaleString('en-US')} bytes)`;
}
