/**
 * A package as one deterministic .tgz, and back.
 *
 * Layout: the files the manifest names, at the root of the archive with their package-relative paths,
 * `modelship.json` first, then `signature.json` when the package is signed, and the rest in code-point order:
 * ```
 * modelship.json
 * signature.json
 * labels.json
 * model.onnx
 * samples/0.request.json
 * samples/0.response.json
 * ```
 * Only those files go in (a stray editor backup or .DS_Store in the directory does not), every entry is a
 * plain file with fixed mode, owner and mtime, and the gzip header is pinned (see deterministic-tar-gz),
 * so the same package always gives the same bytes and the same sha256 on the same Node.js version.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { readManifest, type Manifest } from '../package/manifest';
import { PackageError } from '../package/errors';
import { type TarEntry, type TarGzResult, writeDeterministicTarGz } from '../triton/deterministic-tar-gz';
import { openVerifiedModel } from '../triton/verified-model';
import { packageFiles, SIGNATURE_FILE } from '../package/package-files';

export { packageFiles };

export interface PackageTarball extends TarGzResult {
  readonly file: string;
  readonly manifest: Manifest;
  /** The entries, in order. */
  readonly entries: readonly string[];
}

/**
 * Writes the package in `dir` to `outFile` as a deterministic .tgz. The model is checked against the
 * manifest's size and sha256 while it is read; on a mismatch a PackageError is thrown and no file is left.
 */
export async function buildPackageTarball(dir: string, outFile: string): Promise<PackageTarball> {
  const manifest = readManifest(dir);
  const [first, ...rest] = packageFiles(manifest);
  // A signature travels with the package it signs, right after the manifest.
  const signed = await stat(join(dir, SIGNATURE_FILE)).catch(() => undefined);
  const names = signed?.isFile() ? [first, SIGNATURE_FILE, ...rest] : [first, ...rest];
  const model = await openVerifiedModel(dir, manifest);
  const entries: TarEntry[] = [];
  for (const name of names) {
    if (name === manifest.model.file) {
      entries.push({ name, size: model.bytes, chunks: model.chunks() });
      continue;
    }
    const data = await readFile(join(dir, name)).catch((err: Error) => {
      throw new PackageError(`${join(dir, name)}: a file the manifest names cannot be read: ${err.message}`);
    });
    entries.push({ name, data });
  }
  const result = await writeDeterministicTarGz(entries, outFile);
  return { ...result, file: outFile, manifest, entries: names };
}

/** Bounds on what an archive may unpack to, so a hostile tarball cannot fill a disk or a /tmp. */
export interface ExtractLimits {
  /** @default 1000 */
  readonly maxEntries?: number;
  /** Total bytes of all files. @default 10 GiB, Lambda's largest /tmp */
  readonly maxBytes?: number;
}

/** Package-relative file paths: no absolute paths, no empty, '.' or '..' segments, no backslashes. */
const SAFE_PATH = /^(?!\/)(?!.*(^|\/)\.{1,2}(\/|$))(?!.*\/\/)[A-Za-z0-9._\-/]+$/;

/**
 * Unpacks a package .tgz into `destDir` (created if needed). Only plain files with safe relative paths
 * are accepted; links, devices, absolute paths, `..`, duplicates, and archives past `limits` are refused
 * with a PackageError. Files are created exclusively, so nothing already in `destDir` is overwritten.
 * @returns the paths written, in archive order
 */
export async function extractPackageTarball(tgzFile: string, destDir: string, limits: ExtractLimits = {}): Promise<string[]> {
  const maxEntries = limits.maxEntries ?? 1000;
  const maxBytes = limits.maxBytes ?? 10 * 1024 ** 3;
  const root = resolve(destDir);
  await mkdir(root, { recursive: true });
  const names: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  const extract = tarExtract();
  const refuse = (why: string) => new PackageError(`${tgzFile}: ${why}`);

  const consume = (async () => {
    for await (const entry of extract) {
      const header: Header = entry.header;
      const name = header.name.replace(/^\.\//, '');
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file')
        throw refuse(`entry "${name}" is a ${header.type}; a package holds only plain files`);
      if (!SAFE_PATH.test(name)) throw refuse(`entry "${name}" is not a safe package-relative path`);
      if (seen.has(name)) throw refuse(`entry "${name}" appears twice`);
      seen.add(name);
      if (names.length >= maxEntries) throw refuse(`more than ${maxEntries} entries`);
      total += header.size;
      if (total > maxBytes) throw refuse(`unpacks to more than ${maxBytes} bytes`);
      const target = resolve(root, name);
      if (!target.startsWith(root + sep)) throw refuse(`entry "${name}" would land outside ${destDir}`);
      await mkdir(dirname(target), { recursive: true });
      const handle = await open(target, 'wx', 0o644);
      try {
        for await (const chunk of entry as AsyncIterable<Buffer>) await handle.write(chunk);
      } finally {
        await handle.close();
      }
      names.push(name);
    }
  })();
  const feeding = pipeline(createReadStream(tgzFile), createGunzip(), extract as unknown as NodeJS.WritableStream).catch((err: Error) => {
    throw err instanceof PackageError ? err : refuse(`not a readable .tgz: ${err.message}`);
  });
  const results = await Promise.allSettled([consume, feeding]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    extract.destroy();
    throw failed.reason instanceof PackageError ? failed.reason : refuse(String((failed.reason as Error)?.message ?? failed.reason));
  }
  return names;
}
