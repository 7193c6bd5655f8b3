/**
 * Reads a package's model while checking it against the manifest: its size before the first byte is
 * used, its sha256 once the last byte has been read. A consumer writes what it reads to a temporary
 * place and keeps it only when the read completes, so a tampered model never lands anywhere.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashMismatch, sizeMismatch } from '../package/integrity';
import type { Manifest } from '../package/manifest';
import { PackageError } from '../package/errors';

export interface VerifiedModel {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /**
   * The model's bytes. Throws a PackageError after the last chunk when they do not hash to the
   * manifest's sha256, or when the file changed size while it was read.
   */
  chunks(): AsyncIterable<Buffer>;
}

export async function openVerifiedModel(packageDir: string, manifest: Manifest): Promise<VerifiedModel> {
  const path = join(packageDir, manifest.model.file);
  const { bytes, sha256 } = manifest.model;
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new PackageError(`${path}: the model the manifest names cannot be read: ${err.message}`);
  });
  if (!info.isFile()) throw new PackageError(`${path}: the model the manifest names is not a file`);
  if (info.size !== bytes) throw sizeMismatch(path, info.size, manifest.model);
  async function* chunks(): AsyncIterable<Buffer> {
    const hash = createHash('sha256');
    let read = 0;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      read += chunk.length;
      yield chunk;
    }
    const actual = hash.digest('hex');
    if (read !== bytes) throw new PackageError(`${path} changed size while it was read (${read} bytes, the manifest says ${bytes})`);
    if (actual !== sha256) throw hashMismatch(path, actual, manifest.model);
  }
  return { path, bytes, sha256, chunks };
}
