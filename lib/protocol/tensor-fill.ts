/**
 * Tensor elements from JSON values or from the binary section, each one checked against its datatype.
 * The general decoder (decode.ts), the fast one (scan-request.ts) and the client (client-codec.ts) all
 * fill tensors through these, so they agree on every datatype by construction.
 */
import type { DatatypeInfo, TensorData } from './datatypes';
import { BadRequestError } from './errors';
import { halfBitsFromNumbers } from './fp16';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8, refusing malformed sequences rather than replacing them. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // Buffer#toString is several times faster than a fatal TextDecoder; only text that holds a
  // replacement character can have come from malformed input, so only that pays for the strict check.
  if (!text.includes('\uFFFD')) return text;
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BadRequestError(`${what} is not valid UTF-8`);
  }
}

/**
 * The array a request's tensor is filled into: `info.allocate(n)` for BYTES, and for fixed-size types
 * memory that is not zeroed first, because every caller writes all `n` elements or throws and drops it.
 * In a process whose heap had grown, a zeroed batch-64 MNIST input (200 KB) measured 560-660 µs on every
 * call, and Buffer.allocUnsafeSlow 11 µs (the zeroed allocation was 13 µs in a fresh process). Node-only,
 * which is why datatypes.ts, which the browser page shares, keeps the zeroed one.
 */
export function allocateElements(info: DatatypeInfo, n: number): TensorData {
  return info.size === 0 ? info.allocate(n) : info.view(Buffer.allocUnsafeSlow(n * info.size).buffer, 0, n);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function elementError(name: string, index: number, value: unknown, info: DatatypeInfo): BadRequestError {
  const want =
    info.json === 'integer'
      ? `integers from ${info.min} to ${info.max}`
      : info.json === 'number'
        ? 'numbers'
        : info.json === 'boolean'
          ? 'true or false'
          : 'strings';
  const got = typeof value === 'number' || typeof value === 'bigint' ? String(value) : describe(value);
  return new BadRequestError(`input '${name}': element ${index} is ${got}; ${info.datatype} data must be ${want}`);
}

/** Copies JSON values into the typed array for the datatype, checking each one. `name` is for messages. */
export function fillFromJson(name: string, info: DatatypeInfo, values: readonly unknown[]): TensorData {
  const n = values.length;
  switch (info.json) {
    case 'number': {
      const floats = info.datatype === 'FP16' ? new Float64Array(n) : (allocateElements(info, n) as Float32Array | Float64Array);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        // A float written as a long integer literal (1e20 spelled out) arrives as BigInt from the lossless parser.
        if (typeof v === 'number') floats[i] = v;
        else if (typeof v === 'bigint') floats[i] = Number(v);
        else throw elementError(name, i, v, info);
      }
      return info.datatype === 'FP16' ? halfBitsFromNumbers(floats) : floats;
    }
    case 'integer': {
      const out = allocateElements(info, n) as Exclude<TensorData, string[]>;
      const min = info.min as number | bigint;
      const max = info.max as number | bigint;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (info.bigint) {
          const ok = (typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint';
          if (!ok || v < min || v > max) throw elementError(name, i, v, info);
          (out as BigInt64Array)[i] = BigInt(v);
        } else {
          if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw elementError(name, i, v, info);
          (out as Int32Array)[i] = v;
        }
      }
      return out;
    }
    case 'boolean': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') throw elementError(name, i, v, info);
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'string': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') throw elementError(name, i, v, info);
        out[i] = v;
      }
      return out;
    }
  }
}

/** Reads one input's elements from the binary section. */
export function fillFromBinary(name: string, info: DatatypeInfo, bytes: Uint8Array, count: number): TensorData {
  if (info.datatype === 'BYTES') {
    const out = new Array<string>(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      if (offset + 4 > bytes.byteLength) throw new BadRequestError(`input '${name}': binary data ends before element ${i} of ${count}`);
      const len = view.getUint32(offset, true);
      offset += 4;
      if (offset + len > bytes.byteLength)
        throw new BadRequestError(`input '${name}': element ${i} claims ${len} bytes but only ${bytes.byteLength - offset} remain`);
      out[i] = decodeUtf8(bytes.subarray(offset, offset + len), `input '${name}' element ${i}`);
      offset += len;
    }
    if (offset !== bytes.byteLength)
      throw new BadRequestError(`input '${name}': binary_data_size is ${bytes.byteLength} but its ${count} elements use ${offset} bytes`);
    return out;
  }
  const expected = count * info.size;
  if (bytes.byteLength !== expected) {
    throw new BadRequestError(
      `input '${name}': binary_data_size is ${bytes.byteLength} bytes but ${count} ${info.datatype} elements need ${expected}`,
    );
  }
  // Aligned bytes are read in place: no copy of a large tensor, nor a fresh buffer for onnxruntime to fault
  // in. The binary section may start at any offset, though (the JSON header before it has any length):
  // unaligned elements are copied into a typed array of their own. modelship's client aligns them.
  let out: Exclude<TensorData, string[]>;
  if (bytes.byteOffset % info.size === 0) {
    out = info.view(bytes.buffer, bytes.byteOffset, count) as Exclude<TensorData, string[]>;
  } else {
    out = allocateElements(info, count) as Exclude<TensorData, string[]>;
    new Uint8Array(out.buffer).set(bytes);
  }
  if (info.datatype === 'BOOL') {
    for (let i = 0; i < count; i++)
      if ((out[i] as number) > 1) throw new BadRequestError(`input '${name}': BOOL element ${i} is ${out[i]}, not 0 or 1`);
  }
  return out;
}
