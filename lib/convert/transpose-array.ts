/**
 * Transposes a row-major float array. Keras stores conv kernels as [spatial..., in, out] and ONNX
 * wants [out, in, spatial...], so weights are permuted once at conversion time.
 */
export function transposeArray(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`transposeArray: perm [${perm.join(', ')}] is not a permutation of rank ${rank}`);
  }
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * shape[i + 1];
  // Stride in the input of each output axis, so the loop below walks the output in order.
  const strideOfOut = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let dst = 0; dst < out.length; dst++) {
    out[dst] = data[src];
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      src += strideOfOut[axis];
      if (index[axis] < outShape[axis]) break;
      src -= strideOfOut[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
  return { data: out, shape: outShape };
}
