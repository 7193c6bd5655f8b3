/**
 * Which model file this is, from its first bytes, never its extension: a `.h5` renamed `.keras`, or a
 * model.json saved without one, is still read for what it is.
 */
import { open } from 'node:fs/promises';

export type ModelFileFormat = 'zip' | 'hdf5' | 'json';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // "PK\3\4": a local file header
const EMPTY_ZIP_MAGIC = [0x50, 0x4b, 0x05, 0x06]; // an end-of-central-directory record alone
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // "\x89HDF\r\n\x1a\n"

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** The container format of a model file, or undefined when it is none of the three. */
export function detectModelFormat(bytes: Uint8Array): ModelFileFormat | undefined {
  if (startsWith(bytes, ZIP_MAGIC) || startsWith(bytes, EMPTY_ZIP_MAGIC)) return 'zip';
  // HDF5 allows a user block before the superblock, at 512, 1024, 2048... bytes; h5py writes none.
  if (startsWith(bytes, HDF5_MAGIC)) return 'hdf5';
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) continue; // whitespace, BOM
    return b === 0x7b ? 'json' : undefined; // '{'
  }
  return undefined;
}

/** True when the file is a Keras container (zip or HDF5) rather than ONNX; read from its first bytes. */
export async function isKerasFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return false; // the packager reports the unreadable file in its own words
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const format = detectModelFormat(head.subarray(0, bytesRead));
    return format === 'zip' || format === 'hdf5';
  } finally {
    await handle.close();
  }
}
