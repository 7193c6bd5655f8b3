/**
 * `modelship publish`: puts a verified package into the registry as a deterministic tarball, once.
 *
 * 1. The package is verified (manifest, model sha256, golden samples re-run).
 * 2. Its tarball is built in a temporary directory; its sha256 is the version's identity.
 * 3. HeadObject: an existing version is refused (versions are immutable).
 * 4. The tarball goes up with its SHA-256 checksum, so S3 refuses bytes that changed on the way, and with
 *    If-None-Match: *, so that of two publishers racing for one version only the first wins. Tarballs of
 *    `multipartThresholdBytes` or more go up as a multipart upload, each part with its own checksum.
 *    A gpu package's SageMaker Triton artifact (lib/triton's default options) goes up the same way,
 *    before the tarball, to `<name>/<version>/sagemaker/model.tar.gz`.
 * 5. The model's index object gets the new version (see index-object.ts), with the artifact's sha256.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../package/hash';
import { SIGNATURE_FILE } from '../package/package-files';
import { requireVerified } from '../package/verify';
import { PackageError } from '../package/errors';
import { buildSageMakerArtifact } from '../triton/sagemaker-artifact';
import { AlreadyPublishedError, RegistryError } from './errors';
import { addIndexEntry, readIndex, type IndexEntry } from './index-object';
import type { Manifest } from '../package/manifest';
import {
  indexKey,
  METADATA_MODEL_SHA256,
  METADATA_SHA256,
  objectUri,
  packageKey,
  PACKAGE_FILE,
  registryUri,
  type RegistryLocation,
  sagemakerArtifactKey,
  signatureKey,
  toLocation,
} from './location';
import { buildPackageTarball } from './package-tarball';
import { describeS3Error, isAccessDenied, isChecksumMismatch, isConditionFailed, isNotFound } from './s3';

/** Tarballs this large or larger go up as multipart uploads. */
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 64 * 1024 * 1024;
/** Part size of multipart uploads. S3's minimum is 5 MiB (every part but the last). */
export const DEFAULT_PART_SIZE_BYTES = 16 * 1024 * 1024;
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}

export interface PublishOptions {
  readonly client: S3Client;
  /** The registry, as `s3://bucket/prefix` or a location. */
  readonly registry: RegistryLocation | string;
  /** The package directory. */
  readonly dir: string;
  /** @default 64 MiB */
  readonly multipartThresholdBytes?: number;
  /** @default 16 MiB; at least 5 MiB */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once. @default 4 */
  readonly queueSize?: number;
  /** Called as bytes go up. */
  readonly onProgress?: (progress: UploadProgress) => void;
  /** The clock for the index's `time`. @default () => new Date() */
  readonly now?: () => Date;
}

export interface PublishResult extends IndexEntry {
  readonly name: string;
  readonly bucket: string;
  readonly key: string;
  readonly uri: string;
  readonly indexKey: string;
  /** Whether the tarball went up as a multipart upload. */
  readonly multipart: boolean;
  /** gpu packages: the key of the SageMaker Triton artifact (`<prefix>/<name>/<version>/sagemaker/model.tar.gz`). */
  readonly sagemakerKey?: string;
  /** The signature's own object, for a signed package. */
  readonly signatureKey?: string;
  /** What the publisher should know but that does not stop a publish (a derived package whose base is elsewhere). */
  readonly warnings: readonly string[];
}

/** A derived package's base should be in the same registry, so that its lineage can be followed there. */
async function lineageWarnings(client: S3Client, registry: RegistryLocation, manifest: Manifest): Promise<string[]> {
  const base = manifest.derivedFrom;
  if (!base) return [];
  const { index } = await readIndex(client, registry, base.name);
  const entry = index.versions.find((v) => v.version === base.version);
  if (!entry)
    return [
      `${manifest.name}@${manifest.version} is derived from ${base.name}@${base.version}, which ${registryUri(registry)} does not hold; publish the base there too to keep its lineage`,
    ];
  if (entry.modelSha256 !== base.modelSha256) {
    return [
      `${manifest.name}@${manifest.version} is derived from a ${base.name}@${base.version} whose model (sha256 ${base.modelSha256.slice(0, 12)}) is not the one ${registryUri(registry)} holds (${entry.modelSha256.slice(0, 12)})`,
    ];
  }
  return [];
}

async function assertNotPublished(client: S3Client, bucket: string, key: string, label: string): Promise<void> {
  let existing: string | undefined;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    existing = head.Metadata?.[METADATA_SHA256] ?? '(unknown)';
  } catch (err) {
    if (isNotFound(err)) return;
    if (isAccessDenied(err)) {
      throw new RegistryError(
        `access denied checking whether ${objectUri(bucket, key)} exists (publishing needs s3:GetObject, s3:ListBucket and s3:PutObject there): ${describeS3Error(err)}`,
        { cause: err },
      );
    }
    throw new RegistryError(`cannot check whether ${objectUri(bucket, key)} exists: ${describeS3Error(err)}`, { cause: err });
  }
  throw new AlreadyPublishedError(
    `${label} is already published at ${objectUri(bucket, key)} (sha256 ${existing}); published versions are immutable, so publish a new version`,
    existing === '(unknown)' ? undefined : existing,
  );
}

function uploadError(err: unknown, uri: string, label: string, sha256: string): Error {
  if (isConditionFailed(err)) {
    return new AlreadyPublishedError(
      `${label} was published at ${uri} by someone else while this upload ran; published versions are immutable, so publish a new version`,
      undefined,
      { cause: err },
    );
  }
  if (isChecksumMismatch(err)) {
    return new RegistryError(
      `S3 refused the upload of ${uri}: the bytes it received do not match the SHA-256 checksum of the tarball (${sha256}); they changed on the way and nothing was stored, so try again`,
      { cause: err },
    );
  }
  if (isAccessDenied(err)) {
    return new RegistryError(
      `access denied writing ${uri} with the current AWS credentials (publishing needs s3:PutObject there): ${describeS3Error(err)}`,
      { cause: err },
    );
  }
  return new RegistryError(`uploading ${uri} failed: ${describeS3Error(err)}`, { cause: err });
}

/** Whether `key` holds an object whose recorded sha256 is `sha256`; an object with other bytes is an AlreadyPublishedError. */
async function sameObjectExists(client: S3Client, bucket: string, key: string, sha256: string, label: string): Promise<boolean> {
  try {
    await assertNotPublished(client, bucket, key, label);
    return false;
  } catch (err) {
    if (err instanceof AlreadyPublishedError && err.existingSha256 === sha256) return true;
    throw err;
  }
}

interface UploadContext {
  readonly client: S3Client;
  readonly bucket: string;
  readonly threshold: number;
  readonly partSize: number;
  readonly queueSize: number;
  readonly label: string;
  readonly progress?: (progress: UploadProgress) => void;
}

interface UploadedFile {
  readonly key: string;
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly modelSha256: string;
  /** @default 'application/gzip' */
  readonly contentType?: string;
}

/**
 * Puts one file with its SHA-256 checksum and If-None-Match: *, as a multipart upload from
 * `threshold` bytes. Returns whether it went up in parts.
 */
async function uploadFile(ctx: UploadContext, f: UploadedFile): Promise<boolean> {
  const { client, bucket, progress } = ctx;
  const metadata = { [METADATA_SHA256]: f.sha256, [METADATA_MODEL_SHA256]: f.modelSha256 };
  const multipart = f.bytes >= ctx.threshold;
  try {
    if (!multipart) {
      progress?.({ loaded: 0, total: f.bytes });
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: f.key,
          Body: await readFile(f.file),
          ContentLength: f.bytes,
          ContentType: f.contentType ?? 'application/gzip',
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: Buffer.from(f.sha256, 'hex').toString('base64'),
          IfNoneMatch: '*',
          Metadata: metadata,
        }),
      );
      progress?.({ loaded: f.bytes, total: f.bytes });
    } else {
      const upload = new Upload({
        client,
        partSize: ctx.partSize,
        queueSize: ctx.queueSize,
        leavePartsOnError: false,
        params: {
          Bucket: bucket,
          Key: f.key,
          Body: createReadStream(f.file),
          ContentLength: f.bytes,
          ContentType: f.contentType ?? 'application/gzip',
          // Each part carries its SHA-256; S3 checks every part and keeps a checksum of the parts' checksums.
          ChecksumAlgorithm: 'SHA256',
          // Applied to CompleteMultipartUpload: the object appears only if no other publisher got there first.
          IfNoneMatch: '*',
          Metadata: metadata,
        },
      });
      if (progress) upload.on('httpUploadProgress', (p) => progress({ loaded: p.loaded ?? 0, total: p.total ?? f.bytes }));
      await upload.done();
    }
  } catch (err) {
    throw uploadError(err, objectUri(bucket, f.key), ctx.label, f.sha256);
  }
  return multipart;
}

/**
 * Publishes the package in `dir`. Throws a PackageError when it does not verify, an AlreadyPublishedError
 * when the version exists, and a RegistryError when S3 refuses (each naming the object and the cause).
 */
export async function publishPackage(options: PublishOptions): Promise<PublishResult> {
  const registry = toLocation(options.registry);
  const { client } = options;
  const threshold = options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE_BYTES) {
    throw new RangeError(`partSizeBytes must be an integer of at least ${MIN_PART_SIZE_BYTES} (S3's minimum part size), got ${partSize}`);
  }

  const manifest = await requireVerified(options.dir, options.dir, 'it is not published');
  const { name, version } = manifest;
  const label = `${name}@${version}`;
  const bucket = registry.bucket;
  const key = packageKey(registry, name, version);
  const uri = objectUri(bucket, key);

  await assertNotPublished(client, bucket, key, label);
  const warnings = await lineageWarnings(client, registry, manifest);

  const work = await mkdtemp(join(tmpdir(), 'modelship-publish-'));
  try {
    const tarball = await buildPackageTarball(options.dir, join(work, PACKAGE_FILE));
    if (tarball.manifest.model.sha256 !== manifest.model.sha256) {
      throw new PackageError(`${options.dir} changed while it was being published; publish it again`);
    }
    const modelSha256 = tarball.manifest.model.sha256;
    const upload = { client, bucket, threshold, partSize, queueSize: options.queueSize ?? 4, label, progress: options.onProgress };

    // A gpu package also gets the Triton artifact SageMakerModel deploys from the registry, with the
    // default Triton options. It goes up first: package.tgz, then the index, mark the version published.
    let sagemaker: { key: string; sha256: string } | undefined;
    if (tarball.manifest.target === 'gpu') {
      const artifact = await buildSageMakerArtifact(options.dir, join(work, 'model.tar.gz'));
      const artifactKey = sagemakerArtifactKey(registry, name, version);
      // The artifact's bytes are deterministic: one left by an interrupted publish of this same package is kept.
      if (!(await sameObjectExists(client, bucket, artifactKey, artifact.sha256, label))) {
        await uploadFile(upload, { key: artifactKey, file: artifact.file, sha256: artifact.sha256, bytes: artifact.bytes, modelSha256 });
      }
      sagemaker = { key: artifactKey, sha256: artifact.sha256 };
    }
    const multipart = await uploadFile(upload, { key, file: tarball.file, sha256: tarball.sha256, bytes: tarball.bytes, modelSha256 });
    // The signature also goes up on its own, so a policy check or an audit can read it without the tarball.
    let signature: string | undefined;
    if (tarball.entries.includes(SIGNATURE_FILE)) {
      signature = signatureKey(registry, name, version);
      const data = await readFile(join(options.dir, SIGNATURE_FILE));
      const sigSha256 = sha256(data);
      if (!(await sameObjectExists(client, bucket, signature, sigSha256, label))) {
        const file = join(work, SIGNATURE_FILE);
        await writeFile(file, data);
        await uploadFile(upload, {
          key: signature,
          file,
          sha256: sigSha256,
          bytes: data.length,
          modelSha256,
          contentType: 'application/json',
        });
      }
    }

    const entry: IndexEntry = {
      version,
      sha256: tarball.sha256,
      size: tarball.bytes,
      modelSha256,
      time: (options.now?.() ?? new Date()).toISOString(),
      ...(sagemaker !== undefined ? { sagemakerSha256: sagemaker.sha256 } : {}),
      ...(manifest.derivedFrom ? { derivedFrom: `${manifest.derivedFrom.name}@${manifest.derivedFrom.version}` } : {}),
    };
    await addIndexEntry(client, registry, name, entry);
    return {
      ...entry,
      name,
      bucket,
      key,
      uri,
      indexKey: indexKey(registry, name),
      multipart,
      ...(sagemaker !== undefined ? { sagemakerKey: sagemaker.key } : {}),
      ...(signature !== undefined ? { signatureKey: signature } : {}),
      warnings,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
