/**
 * Where a registry lives (`s3://bucket/prefix`) and where each object goes inside it:
 *
 * ```
 * <prefix>/<name>/index.json                  the model's versions, with sha256, size and time
 * <prefix>/<name>/<version>/package.tgz       the deterministic package tarball
 * <prefix>/<name>/<version>/sagemaker/model.tar.gz   gpu packages: the Triton artifact SageMaker loads
 * ```
 */
import { SIGNATURE_FILE } from '../package/package-files';
import { RegistryError } from './errors';

/** A registry: a bucket and a key prefix (without leading or trailing slashes; '' for the bucket root). */
export interface RegistryLocation {
  readonly bucket: string;
  readonly prefix: string;
}

export const INDEX_FILE = 'index.json';
/** User metadata on each tarball object (x-amz-meta-sha256 and x-amz-meta-model-sha256). */
export const METADATA_SHA256 = 'sha256';
export const METADATA_MODEL_SHA256 = 'model-sha256';
export const PACKAGE_FILE = 'package.tgz';
export { SIGNATURE_FILE };
/** The SageMaker Triton artifact of a gpu package, built with lib/triton's default options. */
export const SAGEMAKER_ARTIFACT_FILE = 'sagemaker/model.tar.gz';

/** S3 bucket naming rules for general purpose buckets: 3-63 lower-case letters, digits, '.', '-'. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Prefix segments: no empty, '.' or '..' segments, and only characters safe in keys and URLs. */
const PREFIX_SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._-]+$/;
/** Same rule as the manifest's `name`. */
export { MODEL_NAME } from '../package/model-name';

/**
 * Parses `s3://bucket[/prefix]`. Throws a RegistryError naming the URI and what is wrong with it.
 * @example parseRegistryUri('s3://acme-models/prod') // { bucket: 'acme-models', prefix: 'prod' }
 */
export function parseRegistryUri(uri: string): RegistryLocation {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri.trim());
  if (match === null) throw new RegistryError(`registry "${uri}" is not an S3 URI; expected s3://bucket or s3://bucket/prefix`);
  const bucket = match[1] ?? '';
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new RegistryError(`registry "${uri}": "${bucket}" is not a valid S3 bucket name (3-63 lower-case letters, digits, "." and "-")`);
  }
  const prefix = (match[2] ?? '').replace(/\/+$/, '');
  if (!isValidPrefix(prefix)) {
    throw new RegistryError(
      `registry "${uri}": the prefix "${prefix}" may hold only letters, digits, ".", "_", "-" and single "/" separators`,
    );
  }
  return { bucket, prefix };
}

/** Whether `prefix` is a registry key prefix: '' or segments of letters, digits, '.', '_', '-' joined by single '/'. */
export function isValidPrefix(prefix: string): boolean {
  return prefix === '' || prefix.split('/').every((s) => PREFIX_SEGMENT.test(s));
}

/** Whether `bucket` is a valid general purpose S3 bucket name. */
export function isValidBucketName(bucket: string): boolean {
  return BUCKET.test(bucket) && !bucket.includes('..');
}

/** Accepts a location or its URI. */
export function toLocation(registry: RegistryLocation | string): RegistryLocation {
  return typeof registry === 'string' ? parseRegistryUri(registry) : registry;
}

export function registryUri(registry: RegistryLocation): string {
  return `s3://${registry.bucket}${registry.prefix ? `/${registry.prefix}` : ''}`;
}

function join(registry: RegistryLocation, ...parts: string[]): string {
  return [...(registry.prefix ? [registry.prefix] : []), ...parts].join('/');
}

/** `<prefix>/<name>/index.json`. */
export function indexKey(registry: RegistryLocation, name: string): string {
  return join(registry, name, INDEX_FILE);
}

/** `<prefix>/<name>/<version>/package.tgz`. */
export function packageKey(registry: RegistryLocation, name: string, version: string): string {
  return join(registry, name, version, PACKAGE_FILE);
}

/** `<prefix>/<name>/<version>/signature.json`: a signed package's signature, beside its tarball (which holds it too). */
export function signatureKey(registry: RegistryLocation, name: string, version: string): string {
  return join(registry, name, version, SIGNATURE_FILE);
}

/** `<prefix>/<name>/<version>/sagemaker/model.tar.gz`: a gpu package's SageMaker Triton artifact. */
export function sagemakerArtifactKey(registry: RegistryLocation, name: string, version: string): string {
  return join(registry, name, version, SAGEMAKER_ARTIFACT_FILE);
}

export function objectUri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
