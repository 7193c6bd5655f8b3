/**
 * Where a Lambda function's model package comes from, read from its environment at init: a directory in
 * its code (`MODEL_DIR`, or the hook's `GOLDEN_DIR`), or a registry tarball (`MODEL_S3_BUCKET`,
 * `MODEL_S3_KEY`, `MODEL_SHA256`, `MODEL_NAME`, `MODEL_VERSION`) that is fetched, checked against its
 * sha256 and cached under /tmp by {@link fetchPackage}.
 *
 * The S3 client and the fetch code are loaded only when the package comes from a registry, so a function
 * with its package in its code starts as fast as before.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { requireEnv, type Env } from '../util/env';
import { IntegrityError } from './errors';

/** The environment variables a registry-sourced function is configured with (set by LambdaModel). */
export const REGISTRY_ENV = {
  BUCKET: 'MODEL_S3_BUCKET',
  KEY: 'MODEL_S3_KEY',
  SHA256: 'MODEL_SHA256',
  NAME: 'MODEL_NAME',
  VERSION: 'MODEL_VERSION',
  /** Where packages are cached; Lambda's only writable place is /tmp. */
  CACHE_DIR: 'MODEL_CACHE_DIR',
} as const;

/** Default of MODEL_CACHE_DIR: each package goes to `<cache>/<sha256>`, which survives warm starts. */
export const DEFAULT_CACHE_DIR = '/tmp/modelship';

/** A registry tarball, as a function's environment names it. */
export interface RegistryPackageRef {
  readonly bucket: string;
  readonly key: string;
  readonly sha256: string;
  readonly name: string;
  readonly version: string;
  readonly cacheDir: string;
}

/**
 * The registry tarball the environment names, or undefined when MODEL_S3_BUCKET is not set. Throws naming
 * the first missing variable when only some are set.
 */
export function registryPackageFromEnv(env: Env = process.env): RegistryPackageRef | undefined {
  const bucket = env[REGISTRY_ENV.BUCKET];
  if (!bucket) return undefined;
  const sha256 = requireEnv(env, REGISTRY_ENV.SHA256, 'the sha256 of the package tarball');
  return {
    bucket,
    key: requireEnv(env, REGISTRY_ENV.KEY, `the package tarball's key in s3://${bucket}`),
    sha256,
    name: requireEnv(env, REGISTRY_ENV.NAME, 'the model the package must hold'),
    version: requireEnv(env, REGISTRY_ENV.VERSION, 'the version the package must hold'),
    cacheDir: `${(env[REGISTRY_ENV.CACHE_DIR] || DEFAULT_CACHE_DIR).replace(/\/+$/, '')}/${sha256}`,
  };
}

/**
 * Fetches the package (or finds it cached), checks the tarball's sha256, the model's against the manifest,
 * and the name and version, and returns the directory it is in. Any mismatch is an IntegrityError that
 * names what was found and what was expected: the init fails rather than serve the wrong model.
 */
export async function fetchRegistryPackage(ref: RegistryPackageRef, client?: S3Client): Promise<string> {
  // Loaded here, not at the top: only registry-sourced functions pay for the S3 client.
  const [{ S3Client: Client }, { fetchPackage }] = await Promise.all([import('@aws-sdk/client-s3'), import('./fetch')]);
  const s3 = client ?? new Client({});
  const uri = `s3://${ref.bucket}/${ref.key}`;
  let fetched;
  try {
    fetched = await fetchPackage({ client: s3, bucket: ref.bucket, key: ref.key, sha256: ref.sha256, cacheDir: ref.cacheDir });
  } catch (err) {
    // By name: the fetch module is loaded lazily, and a bundler or test runner may give it its own copy of the class.
    if (err instanceof Error && err.name === 'IntegrityError')
      throw new IntegrityError(`the model package ${uri} refuses to load: ${err.message}`);
    throw err;
  } finally {
    if (client === undefined) s3.destroy();
  }
  const { manifest } = fetched;
  if (manifest.name !== ref.name || manifest.version !== ref.version) {
    throw new IntegrityError(
      `the model package ${uri} holds ${manifest.name}@${manifest.version}, but this function serves ${ref.name}@${ref.version}`,
    );
  }
  return fetched.dir;
}

/**
 * The package directory a function loads: fetched from the registry when MODEL_S3_BUCKET is set, else
 * the directory `dirVariable` names. Reads the environment now, synchronously, so that a missing variable
 * fails the init at once; the fetch itself is the returned promise.
 */
export function packageDirFromEnv(dirVariable: string, env: Env = process.env): Promise<string> {
  const ref = registryPackageFromEnv(env);
  if (ref !== undefined) return fetchRegistryPackage(ref);
  return Promise.resolve(requireEnv(env, dirVariable, 'the model package directory'));
}
