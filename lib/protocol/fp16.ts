/**
 * IEEE 754 half precision held as raw bits (Uint16Array), the form onnxruntime-node takes for float16.
 * Node 20 has no Float16Array, so conversion goes through @petamoriken/float16's DataView helpers.
 */
type Float16Module = typeof import('@petamoriken/float16');

let float16: Float16Module | undefined;
/** Loaded on first FP16 tensor: most models never have one, and cold start is target P3 (README.md, "Benchmarks"). */
function lib(): Float16Module {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy and synchronous: import() would make every codec call async
  return (float16 ??= require('@petamoriken/float16') as Float16Module);
}

export function halfBitsFromNumbers(values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  const { setFloat16 } = lib();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < values.length; i++) setFloat16(view, i * 2, values[i], true);
  return out;
}

export function numbersFromHalfBits(bits: Uint16Array): number[] {
  const { getFloat16 } = lib();
  const view = new DataView(bits.buffer, bits.byteOffset, bits.byteLength);
  const out = new Array<number>(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = getFloat16(view, i * 2, true);
  return out;
}

/** The float16 nearest a double (ties to even), as a double: what halfBitsFromNumbers stores, without the bits. */
export function roundToFloat16(value: number): number {
  return lib().f16round(value);
}
