/**
 * Getting a package out of S3 so that nothing unverified is ever installed: the tarball is streamed to a
 * temporary file while it is hashed, compared with the sha256 the caller expects, and only then unpacked,
 * into a staging directory next to the destination. The model is checked against the manifest there, and
 * the staging directory is renamed into place in one step. A mismatch anywhere leaves the destination
 * untouched and throws an IntegrityError.
 *
 * This module loads neither onnxruntime nor the engine, so a Lambda function can fetch its package at
 * init with it (see {@link fetchPackage}).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SHA256_HEX, sha256File } from '../package/hash';
import { checkModelFile } from '../package/integrity';
import { MANIFEST_FILE, readManifest, type Manifest } from '../package/manifest';
import { PackageError } from '../package/errors';
import { SOURCE_FILE } from '../package/package-files';
import { recoverInterruptedWrite, writeDirAtomically } from '../util/atomic-dir';
import { IntegrityError, RegistryError } from './errors';
import { objectUri } from './location';
import { extractPackageTarball, packageFiles } from './package-tarball';
import { describeS3Error, isAccessDenied, isNotFound } from './s3';

export { SOURCE_FILE };

export interface DownloadProgress {
  readonly loaded: number;
  readonly total?: number;
}

export interface DownloadVerifiedOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** The sha256 (lower-case hex) the object must have. */
  readonly sha256: string;
  /** Directory the temporary file goes in. @default os.tmpdir() */
  readonly tmpDir?: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
}

export interface DownloadedFile {
  /** A temporary file holding exactly the expected bytes; the caller removes it. */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

class HashingCounter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onChunk?: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onChunk?.(this.bytes);
    callback(null, chunk);
  }
}

function checkSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new TypeError(`sha256 must be 64 lower-case hex digits, got "${sha256}"`);
}

/**
 * Downloads an object to a temporary file while hashing it, and keeps the file only when its sha256 is
 * the expected one. Throws an IntegrityError on a mismatch (the file is removed first) and a
 * RegistryError when the object is missing or cannot be read.
 */
export async function downloadVerified(options: DownloadVerifiedOptions): Promise<DownloadedFile> {
  const { client, bucket, key } = options;
  checkSha256(options.sha256);
  const uri = objectUri(bucket, key);
  let body: Readable;
  let total: number | undefined;
  try {
    // ChecksumMode asks S3 for the checksum it stored at upload, so the SDK checks the transfer too.
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    body = out.Body as Readable;
    total = out.ContentLength;
  } catch (err) {
    if (isNotFound(err)) throw new RegistryError(`${uri} does not exist`, { cause: err });
    if (isAccessDenied(err))
      throw new RegistryError(`access denied reading ${uri} with the current AWS credentials: ${describeS3Error(err)}`, { cause: err });
    throw new RegistryError(`cannot read ${uri}: ${describeS3Error(err)}`, { cause: err });
  }
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'modelship-download-'));
  const file = join(dir, basename(key) || 'package.tgz');
  const counter = new HashingCounter(options.onProgress ? (loaded) => options.onProgress!({ loaded, total }) : undefined);
  try {
    await pipeline(body, counter, createWriteStream(file));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new RegistryError(`downloading ${uri} failed: ${describeS3Error(err)}`, { cause: err });
  }
  const actual = counter.hash.digest('hex');
  if (actual !== options.sha256) {
    await rm(dir, { recursive: true, force: true });
    throw new IntegrityError(
      `${uri} has sha256 ${actual} but ${options.sha256} was expected: the object is corrupted or has been tampered with; nothing was installed`,
    );
  }
  return { file, bytes: counter.bytes, sha256: actual };
}

/**
 * Checks an unpacked package: the manifest is valid, every file it names is there, and the model has the
 * size and sha256 the manifest records. Throws an IntegrityError naming the file at fault.
 */
export async function checkPackageFiles(dir: string): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = readManifest(dir);
  } catch (err) {
    throw new IntegrityError((err as Error).message);
  }
  for (const name of packageFiles(manifest)) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info?.isFile()) throw new IntegrityError(`${join(dir, name)}: a file the manifest names is missing`);
  }
  await checkModelFile(dir, manifest.model).catch((err: Error) => {
    throw new IntegrityError(err.message);
  });
  return manifest;
}

export interface InstallOptions {
  /** The package must have this name. @default - any */
  readonly name?: string;
  /** The package must have this version. @default - any */
  readonly version?: string;
  /** Recorded in {@link SOURCE_FILE}. */
  readonly source?: Readonly<Record<string, string>>;
  /** A further check on the staged package before it is moved into place (pull runs the golden samples). */
  readonly check?: (stagedDir: string, manifest: Manifest) => Promise<void>;
  /** Replace a package already at the destination. @default false */
  readonly replace?: boolean;
}

/**
 * Unpacks a verified tarball into `destDir` crash-safely (see lib/util/atomic-dir.ts): into a staging
 * directory beside it, where the files are checked (see {@link checkPackageFiles}) and `check` runs, then
 * fsynced and renamed into place. `destDir` must be missing or empty unless `replace` is set (an
 * OutputExistsError otherwise). On any failure, Ctrl-C included, the staging directory is removed and
 * `destDir` is as it was; with `replace`, the old package stays whole until the new one is in place.
 */
export async function installPackage(tgzFile: string, destDir: string, options: InstallOptions = {}): Promise<Manifest> {
  return writeDirAtomically(
    destDir,
    async (staging) => {
      await extractPackageTarball(tgzFile, staging);
      const manifest = await checkPackageFiles(staging).catch((err: unknown) => {
        throw err instanceof PackageError ? new IntegrityError(err.message.split(staging).join(destDir)) : err;
      });
      if (options.name !== undefined && manifest.name !== options.name) {
        throw new IntegrityError(`the tarball holds package "${manifest.name}", not "${options.name}"`);
      }
      if (options.version !== undefined && manifest.version !== options.version) {
        throw new IntegrityError(`the tarball holds ${manifest.name}@${manifest.version}, not version ${options.version}`);
      }
      await options.check?.(staging, manifest);
      if (options.source) {
        const source = { ...options.source, manifestSha256: await sha256File(join(staging, MANIFEST_FILE)) };
        await writeFile(join(staging, SOURCE_FILE), `${JSON.stringify(source, null, 2)}\n`);
      }
      return manifest;
    },
    { replace: options.replace, occupied: `${destDir} is not empty; pull into a new or empty directory` },
  );
}

export interface FetchPackageOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** The sha256 the tarball must have (lower-case hex), from the registry index or the deployment. */
  readonly sha256: string;
  /** Where the package is unpacked, and looked for first (a Lambda function's /tmp survives warm starts). */
  readonly cacheDir: string;
  /** Where the download is staged before it is verified. @default os.tmpdir() */
  readonly tmpDir?: string;
}

export interface FetchedPackage {
  readonly dir: string;
  readonly manifest: Manifest;
  /** The tarball's sha256, equal to the one asked for. */
  readonly sha256: string;
  /** True when `cacheDir` already held this tarball's package (re-checked, not downloaded). */
  readonly cached: boolean;
}

/** The tarball sha256 a cached package records, when its manifest is still the one it was installed with. */
async function cachedSha256(dir: string): Promise<string | undefined> {
  try {
    const source = JSON.parse(await readFile(join(dir, SOURCE_FILE), 'utf8')) as { sha256?: unknown; manifestSha256?: unknown };
    if (source.manifestSha256 !== (await sha256File(join(dir, MANIFEST_FILE)))) return undefined;
    return typeof source.sha256 === 'string' ? source.sha256 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure `cacheDir` holds the package whose tarball is `s3://bucket/key` with `sha256`, and returns it.
 *
 * - When `cacheDir` already holds it (by its recorded sha256), its model is re-checked against its manifest
 *   and it is used without a download.
 * - Otherwise the tarball is downloaded, checked against `sha256`, unpacked and checked (see
 *   {@link installPackage}), replacing whatever `cacheDir` held.
 *
 * A mismatch is an IntegrityError saying which sha256 was found and which was expected; the caller (a
 * Lambda init) should let it fail the init rather than serve a model that is not the one deployed.
 */
export async function fetchPackage(options: FetchPackageOptions): Promise<FetchedPackage> {
  checkSha256(options.sha256);
  const dir = resolve(options.cacheDir);
  // An init killed in the middle of replacing the cache leaves the old copy aside; it may be the one wanted.
  await recoverInterruptedWrite(dir);
  if ((await cachedSha256(dir)) === options.sha256) {
    const manifest = await checkPackageFiles(dir);
    return { dir, manifest, sha256: options.sha256, cached: true };
  }
  const download = await downloadVerified(options);
  try {
    const manifest = await installPackage(download.file, dir, {
      replace: true,
      source: { bucket: options.bucket, key: options.key, sha256: download.sha256 },
    });
    return { dir, manifest, sha256: download.sha256, cached: false };
  } finally {
    await rm(dirname(download.file), { recursive: true, force: true });
  }
}
