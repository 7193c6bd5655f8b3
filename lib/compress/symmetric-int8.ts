/**
 * Symmetric int8 quantization of a weight tensor, as onnxruntime's quantizer does for weights
 * (QInt8, symmetric): zero point 0, scale max|w| / 127, values rounded half to even and held in
 * [-127, 127] so that -x stays representable. Per channel along `axis`, or one scale for the tensor.
 */

export interface QuantizedWeights {
  readonly values: Int8Array;
  /** One per channel along the axis, or one for the whole tensor. */
  readonly scales: Float32Array;
}

/** Rounds half to even, as DequantizeLinear's inverse QuantizeLinear does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantizeSymmetric(data: Float32Array, dims: readonly number[], axis: number | undefined): QuantizedWeights {
  const channels = axis === undefined ? 1 : dims[axis];
  const inner = axis === undefined ? data.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => (axis === undefined ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    const a = Math.abs(data[i]);
    if (a > maxAbs[c]) maxAbs[c] = a;
  }
  // A channel of zeros keeps scale 1: DequantizeLinear needs a positive scale, and 0 * 1 is still 0.
  const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    values[i] = Math.max(-127, Math.min(127, roundHalfEven(data[i] / scales[channelOf(i)])));
  }
  return { values, scales };
}
