// The S3 model registry: publish, pull, list, and fetching a verified package (for Lambda init).
export { AlreadyPublishedError, IntegrityError, RegistryError } from './errors';
export {
  checkPackageFiles,
  downloadVerified,
  fetchPackage,
  installPackage,
  SOURCE_FILE,
  type DownloadedFile,
  type DownloadProgress,
  type DownloadVerifiedOptions,
  type FetchedPackage,
  type FetchPackageOptions,
  type InstallOptions,
} from './fetch';
export { INDEX_FORMAT, latestVersion, readIndex, registryIndexSchema, type IndexEntry, type RegistryIndex } from './index-object';
export { listRegistry, type ListOptions, type RegistryModel } from './list';
export {
  indexKey,
  INDEX_FILE,
  METADATA_MODEL_SHA256,
  METADATA_SHA256,
  objectUri,
  PACKAGE_FILE,
  packageKey,
  signatureKey,
  parseRegistryUri,
  registryUri,
  SAGEMAKER_ARTIFACT_FILE,
  sagemakerArtifactKey,
  type RegistryLocation,
} from './location';
export { buildPackageTarball, extractPackageTarball, packageFiles, type ExtractLimits, type PackageTarball } from './package-tarball';
export {
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_PART_SIZE_BYTES,
  MIN_PART_SIZE_BYTES,
  publishPackage,
  type PublishOptions,
  type PublishResult,
  type UploadProgress,
} from './publish';
export { parsePackageRef, pullPackage, type PackageRef, type PullOptions, type PullResult } from './pull';
export { createRegistryClient, withBucketPathWithoutSlash, type RegistryClientOptions } from './s3';
export {
  DEFAULT_CACHE_DIR,
  fetchRegistryPackage,
  packageDirFromEnv,
  REGISTRY_ENV,
  registryPackageFromEnv,
  type RegistryPackageRef,
} from './package-source';
