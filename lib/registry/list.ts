/**
 * `modelship list [NAME]`: what the registry holds, read from the per-model index objects.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { RegistryError } from './errors';
import { type IndexEntry, latestVersion, readIndex } from './index-object';
import { INDEX_FILE, MODEL_NAME, type RegistryLocation, registryUri, toLocation } from './location';
import { describeS3Error, isAccessDenied } from './s3';

export interface RegistryModel {
  readonly name: string;
  /** Ascending semver order. */
  readonly versions: readonly IndexEntry[];
  /** What `NAME@latest` resolves to. */
  readonly latest?: string;
}

export interface ListOptions {
  readonly client: S3Client;
  readonly registry: RegistryLocation | string;
  /** Only this model. @default - every model */
  readonly name?: string;
}

/** Names of the models under the registry prefix: the "directories" that hold an index.json. */
async function modelNames(client: S3Client, registry: RegistryLocation): Promise<string[]> {
  const prefix = registry.prefix ? `${registry.prefix}/` : '';
  const names: string[] = [];
  let token: string | undefined;
  do {
    let out;
    try {
      out = await client.send(
        new ListObjectsV2Command({ Bucket: registry.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
    } catch (err) {
      const hint = isAccessDenied(err) ? ' (listing needs s3:ListBucket)' : '';
      throw new RegistryError(`cannot list ${registryUri(registry)}${hint}: ${describeS3Error(err)}`, { cause: err });
    }
    for (const p of out.CommonPrefixes ?? []) {
      const name = (p.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
      if (MODEL_NAME.test(name)) names.push(name);
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token !== undefined);
  return names.sort();
}

/** The registry's models (or one model) with their versions. A model without an index is left out. */
export async function listRegistry(options: ListOptions): Promise<RegistryModel[]> {
  const registry = toLocation(options.registry);
  const names = options.name !== undefined ? [options.name] : await modelNames(options.client, registry);
  const models: RegistryModel[] = [];
  // A handful at a time: enough to hide latency, few enough not to trip S3's request-rate limits.
  for (let i = 0; i < names.length; i += 8) {
    const batch = await Promise.all(names.slice(i, i + 8).map((name) => readIndex(options.client, registry, name)));
    for (const { index } of batch) {
      if (index.versions.length === 0) continue;
      models.push({ name: index.name, versions: index.versions, latest: latestVersion(index.versions.map((v) => v.version)) });
    }
  }
  if (options.name !== undefined && models.length === 0) {
    throw new RegistryError(`${registryUri(registry)} has no versions of "${options.name}" (no ${options.name}/${INDEX_FILE})`);
  }
  return models;
}
