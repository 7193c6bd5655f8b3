/**
 * Reads a Keras 3 `.keras` file: a zip holding config.json, metadata.json and model.weights.h5
 * (keras/src/saving/saving_lib.py). yauzl does the zip work. Only those three entries are read, and
 * each is capped by its declared size before a byte is inflated; yauzl's validateEntrySizes then
 * refuses an entry that inflates past what it declared, so a zip bomb ends in an error, not in memory.
 * yauzl leaves CRC-32 checks to its caller; they are made here, since a flipped bit in a stored weight
 * would otherwise convert into a model that silently answers differently.
 */
import { crc32 } from 'node:zlib';
import * as yauzl from 'yauzl';
import { ConversionError } from '../errors';

export const KERAS_ZIP_ENTRIES = ['config.json', 'metadata.json', 'model.weights.h5'] as const;
type EntryName = (typeof KERAS_ZIP_ENTRIES)[number];

export interface KerasZipLimits {
  /** Largest uncompressed size of one entry. @default 2 GiB: ONNX's protobuf limit, and Node's Buffer's */
  readonly maxEntryBytes?: number;
  /** Most entries the archive may list. @default 10,000 */
  readonly maxEntries?: number;
}

const DEFAULT_MAX_ENTRY_BYTES = 2 * 1024 ** 3;
const DEFAULT_MAX_ENTRIES = 10_000;

export type KerasZipContents = Readonly<Record<EntryName, Buffer>>;

function fail(what: string, reason: string): ConversionError {
  return new ConversionError(`${what} is not a readable .keras file: ${reason}`);
}

/** Reads the three entries a .keras file must hold. */
export function readKerasZip(bytes: Buffer, what: string, limits: KerasZipLimits = {}): Promise<KerasZipContents> {
  const maxEntryBytes = limits.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (openError, zip) => {
      if (openError || !zip) {
        reject(fail(what, openError?.message ?? 'no zip directory'));
        return;
      }
      if (zip.entryCount > maxEntries) {
        reject(fail(what, `it lists ${zip.entryCount} entries; at most ${maxEntries} are read`));
        return;
      }
      const found = new Map<EntryName, Buffer>();
      let settled = false;
      const stop = (err: ConversionError) => {
        if (settled) return;
        settled = true;
        zip.close();
        reject(err);
      };
      zip.on('error', (err: Error) => stop(fail(what, err.message)));
      zip.on('end', () => {
        if (settled) return;
        const missing = KERAS_ZIP_ENTRIES.filter((n) => !found.has(n));
        if (missing.length > 0) {
          stop(fail(what, `it has no ${missing.join(', ')}; a Keras 3 model.save('model.keras') writes ${KERAS_ZIP_ENTRIES.join(', ')}`));
          return;
        }
        settled = true;
        resolve(Object.fromEntries(found) as KerasZipContents);
      });
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName as EntryName;
        if (!(KERAS_ZIP_ENTRIES as readonly string[]).includes(name)) {
          zip.readEntry();
          return;
        }
        if (found.has(name)) return stop(fail(what, `it holds ${name} twice`));
        if (entry.uncompressedSize > maxEntryBytes) {
          return stop(fail(what, `${name} would inflate to ${entry.uncompressedSize} bytes, over the ${maxEntryBytes}-byte limit`));
        }
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return stop(fail(what, `${name}: ${streamError?.message ?? 'cannot be read'}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (err: Error) => stop(fail(what, `${name}: ${err.message}`)));
          stream.on('end', () => {
            const data = Buffer.concat(chunks);
            if (crc32(data) !== entry.crc32) return stop(fail(what, `${name} fails its CRC-32 check: the file is corrupt`));
            found.set(name, data);
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
