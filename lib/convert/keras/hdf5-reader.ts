/**
 * HDF5 reading through jsfive (a pure-JS reader: CommonJS like the rest of the project, no WASM to start,
 * and it reads from memory, so a weights file inside a .keras zip never touches the disk). Everything a
 * malformed file can make jsfive throw becomes a ConversionError that names the file.
 */
import * as hdf5 from 'jsfive';
import { ConversionError } from '../errors';

/** A float tensor read from a dataset, row-major. */
export interface WeightTensor {
  /** Where it was found, for messages: the HDF5 path. */
  readonly path: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type Hdf5Group = hdf5.Group;

function guard<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConversionError) throw err;
    // jsfive throws strings, Errors and RangeErrors (reads past the buffer) alike on bad input.
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConversionError(`${what} is not a readable HDF5 file: ${reason || 'malformed structure'}`);
  }
}

/** Opens HDF5 bytes. `what` names the file in every error. */
export function openHdf5(bytes: Uint8Array, what: string): hdf5.File {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return guard(what, () => new hdf5.File(buffer, what));
}

/** The child group at `path`, undefined when absent; a dataset there is an error. */
export function childGroup(group: hdf5.Group, path: string, what: string): hdf5.Group | undefined {
  return guard(what, () => {
    if (!group.keys.includes(path.split('/')[0])) return undefined;
    const child = group.get(path);
    if (child === null || child === undefined) return undefined;
    if (!(child instanceof hdf5.Group)) throw new ConversionError(`${what}: ${group.name}/${path} is a dataset where a group was expected`);
    return child;
  });
}

/** The names of a group's children, in the file's (alphabetical) order. */
export function childNames(group: hdf5.Group, what: string): string[] {
  return guard(what, () => group.keys);
}

/** A string attribute, or undefined. */
export function stringAttribute(group: hdf5.Group, name: string, what: string): string | undefined {
  const value = guard(what, () => group.attrs[name]);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new ConversionError(`${what}: attribute '${name}' of ${group.name} is not a string`);
}

/** A string-list attribute (h5py writes them as fixed-length byte strings), or undefined. */
export function stringListAttribute(group: hdf5.Group, name: string, what: string): string[] | undefined {
  const value = guard(what, () => group.attrs[name]);
  if (value === undefined) return undefined;
  // h5py writes an empty list as a float64 array of length 0.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  if ((Array.isArray(value) || ArrayBuffer.isView(value)) && (value as ArrayLike<unknown>).length === 0) return [];
  throw new ConversionError(`${what}: attribute '${name}' of ${group.name} is not a list of strings`);
}

const MAX_ELEMENTS = 256 * 1024 * 1024; // 1 GiB of float32: far beyond any model this converts

/** Reads a dataset as float32. Integer datasets (a Normalization layer's count) convert exactly up to 2^24. */
export function readTensor(group: hdf5.Group, name: string, what: string): WeightTensor {
  return guard(what, () => {
    const ds = group.get(name);
    const path = `${group.name === '/' ? '' : group.name}/${name}`;
    if (!(ds instanceof hdf5.Dataset)) throw new ConversionError(`${what}: ${path} is not a dataset`);
    const shape = [...ds.shape];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count > MAX_ELEMENTS) {
      throw new ConversionError(`${what}: ${path} has an impossible shape [${shape.join(', ')}]`);
    }
    const dtype = ds.dtype;
    if (typeof dtype !== 'string' || !/^[<>|][fiu][1248]$/.test(dtype)) {
      throw new ConversionError(`${what}: ${path} holds ${JSON.stringify(dtype)}, not numbers`);
    }
    const value = ds.value;
    const list = (shape.length === 0 && (typeof value === 'number' || typeof value === 'bigint') ? [value] : value) as ArrayLike<
      number | bigint
    >;
    if (list === null || typeof list !== 'object' || list.length !== count) {
      throw new ConversionError(`${what}: ${path} holds ${list?.length ?? 0} values for shape [${shape.join(', ')}]`);
    }
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = Number(list[i]);
    return { path, shape, data };
  });
}
