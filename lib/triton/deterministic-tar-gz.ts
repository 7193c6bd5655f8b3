/**
 * Writes a .tar.gz whose bytes depend only on its entries: they go in the order given, each a plain
 * file with mode 0644, owner 0:0, no user or group names and mtime 0; the gzip header carries no file
 * name, mtime 0 and the OS byte 255 ("unknown"), and compression settings are fixed. Bytes can still
 * differ between zlib builds, so the same Node.js version gives the same tarball.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import { writeFileAtomically } from '../util/atomic-file';

export const TAR_FILE_MODE = 0o644;
export const TAR_MTIME = new Date(0);
/** RFC 1952: 255 means "unknown" operating system; zlib would otherwise write the build host's. */
export const GZIP_OS_UNKNOWN = 0xff;

export type TarEntry =
  | { readonly name: string; readonly data: Uint8Array }
  | { readonly name: string; readonly size: number; readonly chunks: AsyncIterable<Uint8Array> };

export interface TarGzResult {
  readonly sha256: string;
  readonly bytes: number;
}

/** The 10-byte gzip header zlib writes with no file name and mtime 0; only the OS byte is replaced. */
const EXPECTED_HEADER: ReadonlyArray<number | undefined> = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, undefined, undefined];

/** Pins the gzip header's OS byte, checks the rest of the header, and hashes what passes. */
class FixedGzipHeader extends Transform {
  private offset = 0;
  readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let out = chunk;
    if (this.offset < 10) {
      out = Buffer.from(chunk);
      for (let i = 0; i < out.length && this.offset + i < 10; i++) {
        const at = this.offset + i;
        const expected = EXPECTED_HEADER[at];
        if (expected !== undefined && out[i] !== expected) {
          callback(new Error(`zlib wrote gzip header byte ${at} as 0x${out[i].toString(16)}, expected 0x${expected.toString(16)}`));
          return;
        }
        if (at === 9) out[i] = GZIP_OS_UNKNOWN;
      }
    }
    this.offset += out.length;
    this.hash.update(out);
    callback(null, out);
  }

  get bytes(): number {
    return this.offset;
  }
}

function addEntry(pack: Pack, entry: TarEntry): Promise<void> {
  const header = {
    name: entry.name,
    size: 'data' in entry ? entry.data.byteLength : entry.size,
    mode: TAR_FILE_MODE,
    mtime: TAR_MTIME,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    type: 'file' as const,
  };
  return new Promise<void>((resolve, reject) => {
    if ('data' in entry) {
      pack.entry(header, entry.data, (err) => (err ? reject(err) : resolve()));
      return;
    }
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    sink.on('error', () => {
      /* reaches the caller through the entry callback */
    });
    void (async () => {
      for await (const chunk of entry.chunks) {
        if (!sink.write(chunk)) await new Promise<void>((drained) => sink.once('drain', () => drained()));
      }
      sink.end(null); // streamx types demand an argument; null adds no data
    })().catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      sink.destroy(error);
      reject(error);
    });
  });
}

/**
 * Writes `entries` to `outFile` as a deterministic .tar.gz and returns its sha256. The file appears
 * only when every entry has been written; on any error (such as a model failing its sha256 check
 * while it is read) nothing is left at `outFile`.
 */
export async function writeDeterministicTarGz(entries: readonly TarEntry[], outFile: string): Promise<TarGzResult> {
  // Atomic (lib/util/atomic-file.ts): a reader of outFile sees the old tarball or the whole new one.
  return writeFileAtomically(outFile, async (partial) => {
    const pack = tarPack();
    const header = new FixedGzipHeader();
    const gzip = createGzip({ level: 9, windowBits: 15, memLevel: 8, strategy: constants.Z_DEFAULT_STRATEGY });
    const written = pipeline(pack as unknown as AsyncIterable<Buffer>, gzip, header, createWriteStream(partial));
    // An entry's own error (a model failing its sha256 as it is read) explains more than the broken pipe it causes.
    let entryError: Error | undefined;
    const adding = (async () => {
      for (const entry of entries) await addEntry(pack, entry);
      pack.finalize();
    })().catch((err: unknown) => {
      entryError = err instanceof Error ? err : new Error(String(err));
      pack.destroy(entryError);
    });
    try {
      await Promise.all([adding, written]);
    } catch (err) {
      throw entryError ?? err;
    }
    if (entryError) throw entryError;
    return { sha256: header.hash.digest('hex'), bytes: header.bytes };
  });
}
