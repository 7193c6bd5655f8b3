/**
 * Ceilings that keep a hostile request from making the decoder allocate without bound (the router passes
 * them to decodeInferRequest). The body limit (413) guards bytes on the wire; these guard what a small
 * body can claim to hold.
 */
export interface TensorLimits {
  /** The most elements one input may hold. @default 2^26 (64 Mi elements, 256 MiB of FP32) */
  readonly maxElements: number;
  /** The most dimensions a shape may have. @default 16 */
  readonly maxRank: number;
}

export const DEFAULT_TENSOR_LIMITS: TensorLimits = { maxElements: 2 ** 26, maxRank: 16 };
