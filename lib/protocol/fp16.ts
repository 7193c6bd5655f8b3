/**
 * IEEE 754 half precision held as raw bits (Uint16Array), the form onnxruntime-node takes for float16.
 * Node 20 has no Float16Array, so conversion goes through @petamoriken/float16's DataView helpers.
 */
import { getFloat16, setFloat16 } from '@petamoriken/float16';

export function halfBitsFromNumbers(values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < values.length; i++) setFloat16(view, i * 2, values[i], true);
  return out;
}

export function numbersFromHalfBits(bits: Uint16Array): number[] {
  const view = new DataView(bits.buffer, bits.byteOffset, bits.byteLength);
  const out = new Array<number>(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = getFloat16(view, i * 2, true);
  return out;
}
