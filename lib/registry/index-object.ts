/**
 * The per-model index object, `<prefix>/<name>/index.json`: every published version with the sha256
 * and size of its tarball, the sha256 of its model and when it was published. `pull` takes the sha256
 * it checks a download against from here, so the index is the registry's record of what each version is.
 *
 * ```json
 * {
 *   "format": "modelship-registry-index/v1",
 *   "name": "mnist-mlp",
 *   "versions": [
 *     { "version": "1.0.0", "sha256": "<tarball>", "size": 301234, "modelSha256": "<model.onnx>", "time": "2026-05-01T12:00:00.000Z" }
 *   ]
 * }
 * ```
 * A gpu package's entry also has `sagemakerSha256`, the sha256 of its `<version>/sagemaker/model.tar.gz`.
 * Versions are kept in ascending semver order. Publishers update the object with a conditional write
 * (If-Match on the ETag read, If-None-Match for the first version) and retry when another publish won.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import compare from 'semver/functions/compare';
import prerelease from 'semver/functions/prerelease';
import { z } from 'zod';
import { schemaProblems } from '../util/schema-problems';
import { SHA256_HEX } from '../package/hash';
import { RegistryError } from './errors';
import { indexKey, objectUri, type RegistryLocation } from './location';
import { describeS3Error, isConditionFailed, isNotFound } from './s3';

export const INDEX_FORMAT = 'modelship-registry-index/v1';

export const indexEntrySchema = z.strictObject({
  version: z.string().min(1),
  /** sha256 of package.tgz, lower-case hex. */
  sha256: z.string().regex(SHA256_HEX),
  /** Bytes of package.tgz. */
  size: z.number().int().min(0),
  /** sha256 of the model file, as in the package manifest. */
  modelSha256: z.string().regex(SHA256_HEX),
  /** When the version was published, ISO 8601 UTC. */
  time: z.string().datetime(),
  /** gpu packages: sha256 of sagemaker/model.tar.gz, the SageMaker Triton artifact (absent in older entries and for cpu packages). */
  sagemakerSha256: z.string().regex(SHA256_HEX).optional(),
  /** A derived package's base, NAME@VERSION, as its manifest records it (shown by `modelship list`). */
  derivedFrom: z.string().min(1).optional(),
});

export const registryIndexSchema = z.strictObject({
  format: z.literal(INDEX_FORMAT),
  name: z.string().min(1),
  versions: z.array(indexEntrySchema),
});

export type IndexEntry = z.infer<typeof indexEntrySchema>;
export type RegistryIndex = z.infer<typeof registryIndexSchema>;

/** An index as read, with the ETag a conditional update needs; `etag` is undefined when there is none yet. */
export interface ReadIndex {
  readonly index: RegistryIndex;
  readonly etag?: string;
}

/** How many times a lost conditional update is retried before giving up. */
const MAX_INDEX_ATTEMPTS = 5;

/** Reads a model's index; an empty one (and no ETag) when the model has none. */
export async function readIndex(client: S3Client, registry: RegistryLocation, name: string): Promise<ReadIndex> {
  const key = indexKey(registry, name);
  let text: string;
  let etag: string | undefined;
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: registry.bucket, Key: key }));
    text = await out.Body!.transformToString('utf8');
    etag = out.ETag;
  } catch (err) {
    if (isNotFound(err)) return { index: { format: INDEX_FORMAT, name, versions: [] } };
    throw new RegistryError(`cannot read the index ${objectUri(registry.bucket, key)}: ${describeS3Error(err)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(`${objectUri(registry.bucket, key)} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = registryIndexSchema.safeParse(json);
  if (!parsed.success) {
    throw new RegistryError(`${objectUri(registry.bucket, key)} is not a registry index: ${schemaProblems(parsed.error)}`);
  }
  if (parsed.data.name !== name) {
    throw new RegistryError(`${objectUri(registry.bucket, key)} is the index of "${parsed.data.name}", not of "${name}"`);
  }
  return { index: parsed.data, etag };
}

/** The index with `entry` added (replacing an entry of the same version), versions in ascending semver order. */
export function withEntry(index: RegistryIndex, entry: IndexEntry): RegistryIndex {
  const versions = [...index.versions.filter((v) => v.version !== entry.version), entry].sort((a, b) => compare(a.version, b.version));
  return { ...index, versions };
}

/**
 * Adds `entry` to the model's index with a conditional write, rereading and retrying when another
 * publisher changed the index in between. Stores that ignore conditional headers still get the write.
 */
export async function addIndexEntry(client: S3Client, registry: RegistryLocation, name: string, entry: IndexEntry): Promise<RegistryIndex> {
  const key = indexKey(registry, name);
  for (let attempt = 1; ; attempt++) {
    const { index, etag } = await readIndex(client, registry, name);
    const next = withEntry(index, entry);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: registry.bucket,
          Key: key,
          Body: `${JSON.stringify(next, null, 2)}\n`,
          ContentType: 'application/json',
          ChecksumAlgorithm: 'SHA256',
          ...(etag !== undefined ? { IfMatch: etag } : { IfNoneMatch: '*' }),
        }),
      );
      return next;
    } catch (err) {
      if (isConditionFailed(err) && attempt < MAX_INDEX_ATTEMPTS) continue;
      throw new RegistryError(
        `${entry.version} was uploaded, but the index ${objectUri(registry.bucket, key)} could not be updated: ${describeS3Error(err)}`,
        { cause: err },
      );
    }
  }
}

/**
 * The highest version by semver precedence. Pre-releases (1.1.0-rc.1) count only when there is no
 * release at all, as with npm's `latest`.
 */
export function latestVersion(versions: readonly string[]): string | undefined {
  const sorted = [...versions].sort(compare).reverse();
  return sorted.find((v) => prerelease(v) === null) ?? sorted[0];
}
