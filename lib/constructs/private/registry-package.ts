/** The environment of a function that fetches a registry package at init: what lib/registry/package-source.ts reads. */
import { REGISTRY_ENV } from '../../registry/package-source';
import type { ModelPackage, RegistryPackageSource } from '../model-package';

export function registryPackageEnvironment(pkg: ModelPackage, source: RegistryPackageSource): Record<string, string> {
  return {
    [REGISTRY_ENV.BUCKET]: source.registry.bucket.bucketName,
    [REGISTRY_ENV.KEY]: source.key,
    [REGISTRY_ENV.SHA256]: source.tarballSha256,
    [REGISTRY_ENV.NAME]: pkg.name,
    [REGISTRY_ENV.VERSION]: pkg.version,
  };
}
