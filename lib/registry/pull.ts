/**
 * `modelship pull NAME@VERSION|NAME@latest`: resolves the version from the model's index, downloads the
 * tarball, checks its sha256 against the index before anything is written to the destination, unpacks
 * it, and verifies the package (model sha256 and golden samples) before it is moved into place. The
 * install is crash-safe (lib/util/atomic-dir.ts): a killed or failed pull leaves `outDir` as it was.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import valid from 'semver/functions/valid';
import { OutputExistsError } from '../errors';
import { verifyPackage } from '../package/verify';
import { SignatureError } from '../trust/errors';
import type { TrustPolicy } from '../trust/trust-policy';
import { type TrustedPackage, verifyPackageSignature } from '../trust/verify-signature';
import { isEmptyOrMissing, recoverInterruptedWrite, withTempSibling } from '../util/atomic-dir';
import { IntegrityError, RegistryError } from './errors';
import { latestVersion, readIndex } from './index-object';
import { METADATA_SHA256, MODEL_NAME, objectUri, packageKey, type RegistryLocation, registryUri, toLocation } from './location';
import { downloadVerified, installPackage, type DownloadProgress } from './fetch';
import { describeS3Error, isNotFound } from './s3';

export interface PackageRef {
  readonly name: string;
  /** A semantic version, or 'latest'. */
  readonly version: string;
}

/** Parses `name@version` or `name@latest` (a bare `name` means latest). */
export function parsePackageRef(ref: string): PackageRef {
  const at = ref.lastIndexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const version = at === -1 ? 'latest' : ref.slice(at + 1);
  if (!MODEL_NAME.test(name))
    throw new RegistryError(`"${ref}": "${name}" is not a model name (DNS-safe: lower-case letters, digits and hyphens)`);
  if (version !== 'latest' && valid(version) !== version)
    throw new RegistryError(`"${ref}": "${version}" is neither a semantic version nor "latest"`);
  return { name, version };
}

export interface PullOptions {
  readonly client: S3Client;
  readonly registry: RegistryLocation | string;
  readonly name: string;
  /** A semantic version, or 'latest' (the highest release by semver in the index). */
  readonly version: string;
  /** Where the package goes; must be missing or empty. */
  readonly outDir: string;
  /** The sha256 the tarball must have. @default - the one the index records */
  readonly sha256?: string;
  /** Re-run the golden samples before installing. @default true */
  readonly runSamples?: boolean;
  /** Where the download is staged. @default - a temporary sibling of `outDir` */
  readonly tmpDir?: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /**
   * Install only a package signed by a key of this policy, checked before the golden samples run.
   * @default - signatures are not required
   */
  readonly trust?: TrustPolicy;
}

export interface PullResult {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly uri: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Where the expected sha256 came from. */
  readonly expectedFrom: 'argument' | 'index' | 'object-metadata';
  /** Golden samples re-run and matched. */
  readonly samplesChecked: number;
  /** The signature that verified, with a trust policy. */
  readonly signature?: TrustedPackage;
}

/** The sha256 the object itself records, for a version the index lacks (an index update that failed). */
async function metadataSha256(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.[METADATA_SHA256];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new RegistryError(`cannot read ${objectUri(bucket, key)}: ${describeS3Error(err)}`, { cause: err });
  }
}

export async function pullPackage(options: PullOptions): Promise<PullResult> {
  const registry = toLocation(options.registry);
  const { client } = options;
  const ref = parsePackageRef(`${options.name}@${options.version}`);
  // Refused before anything is downloaded; installPackage checks again when it moves the package in.
  await recoverInterruptedWrite(options.outDir);
  if (!(await isEmptyOrMissing(options.outDir)))
    throw new OutputExistsError(`${options.outDir} is not empty; pull into a new or empty directory`);
  const { index } = await readIndex(client, registry, ref.name);
  const where = registryUri(registry);

  let version = ref.version;
  if (version === 'latest') {
    const latest = latestVersion(index.versions.map((v) => v.version));
    if (latest === undefined) throw new RegistryError(`${where} has no versions of "${ref.name}"`);
    version = latest;
  }
  const key = packageKey(registry, ref.name, version);
  const uri = objectUri(registry.bucket, key);
  const entry = index.versions.find((v) => v.version === version);

  let expected = options.sha256;
  let expectedFrom: PullResult['expectedFrom'] = 'argument';
  if (expected === undefined && entry !== undefined) {
    expected = entry.sha256;
    expectedFrom = 'index';
  }
  if (expected === undefined) {
    expected = await metadataSha256(client, registry.bucket, key);
    expectedFrom = 'object-metadata';
    if (expected === undefined) {
      const known = index.versions.map((v) => v.version);
      throw new RegistryError(`${ref.name}@${version} is not in ${where}${known.length ? ` (versions: ${known.join(', ')})` : ''}`);
    }
  }
  if (entry !== undefined && options.sha256 !== undefined && options.sha256 !== entry.sha256) {
    throw new IntegrityError(
      `the index records sha256 ${entry.sha256} for ${ref.name}@${version}, but ${options.sha256} was asked for; nothing was downloaded`,
    );
  }

  // By default the download is staged beside the out directory, as a temporary sibling the next pull
  // removes if this one is killed (see lib/util/temp-siblings.ts), rather than in a /tmp nobody cleans.
  const install = async (tmpDir: string) => {
    const download = await downloadVerified({
      client,
      bucket: registry.bucket,
      key,
      sha256: expected,
      tmpDir,
      onProgress: options.onProgress,
    });
    let samplesChecked = 0;
    let signature: TrustedPackage | undefined;
    try {
      await installPackage(download.file, options.outDir, {
        name: ref.name,
        version,
        check: async (staged) => {
          if (options.trust !== undefined) {
            signature = await verifyPackageSignature(staged, options.trust).catch((err: unknown) => {
              throw err instanceof SignatureError
                ? new SignatureError(`${ref.name}@${version} from ${uri} is refused: ${err.message.split(staged).join(options.outDir)}`)
                : err;
            });
          }
          if (options.runSamples === false) return;
          const report = await verifyPackage(staged);
          if (!report.ok) {
            throw new IntegrityError(
              `${ref.name}@${version} from ${uri} does not verify:\n  - ${report.problems.map((p) => p.split(staged).join(options.outDir)).join('\n  - ')}`,
            );
          }
          samplesChecked = report.samplesChecked;
        },
      });
    } finally {
      await rm(dirname(download.file), { recursive: true, force: true });
    }
    return { download, samplesChecked, signature };
  };
  const { download, samplesChecked, signature } =
    options.tmpDir !== undefined ? await install(options.tmpDir) : await withTempSibling(options.outDir, install);
  return {
    name: ref.name,
    version,
    dir: options.outDir,
    uri,
    sha256: download.sha256,
    bytes: download.bytes,
    expectedFrom,
    samplesChecked,
    signature,
  };
}
