/**
 * The `keygen`, `sign` and `verify --trust` fronts, and the trust options serve and pull share:
 * bin/modelship.ts parses the options and calls these.
 */
import { stat, writeFile } from 'node:fs/promises';
import { OutputExistsError, UsageError } from '../errors';
import { writeDataAtomically, writeFileAtomically } from '../util/atomic-file';
import { createKmsClient } from './kms-keys';
import { generateLocalKeyPair, LOCAL_KEY_TYPES, type LocalKeyType, localSigner } from './local-keys';
import { signPackage } from './sign-package';
import { type TrustPolicy, trustPolicy } from './trust-policy';

/** The trust options of serve, pull and verify. */
export interface TrustCliOptions {
  readonly trust?: readonly string[];
  readonly trustKms?: readonly string[];
  /** A KMS-compatible endpoint instead of AWS KMS. */
  readonly kmsEndpointUrl?: string;
  readonly region?: string;
  readonly profile?: string;
}

export function trustFromCli(o: TrustCliOptions): Promise<TrustPolicy | undefined> {
  const kmsKeyIds = o.trustKms ?? [];
  return trustPolicy({
    publicKeyFiles: o.trust,
    kmsKeyIds,
    kmsClient: kmsKeyIds.length > 0 ? createKmsClient({ endpointUrl: o.kmsEndpointUrl, region: o.region, profile: o.profile }) : undefined,
  });
}

export async function runKeygen(o: { out: string; type: string; force: boolean }): Promise<void> {
  if (!LOCAL_KEY_TYPES.includes(o.type as LocalKeyType)) {
    throw new UsageError(`--type must be ${LOCAL_KEY_TYPES.join(' or ')}; got "${o.type}"`);
  }
  const privatePath = `${o.out}.pem`;
  const publicPath = `${o.out}.pub.pem`;
  if (!o.force) {
    for (const path of [privatePath, publicPath]) {
      if (await stat(path).catch(() => undefined)) throw new OutputExistsError(`${path} exists; pass --force to replace the key pair`);
    }
  }
  const pair = generateLocalKeyPair(o.type as LocalKeyType);
  // Readable by its owner only: it signs packages in the owner's name.
  await writeFileAtomically(privatePath, (temp) => writeFile(temp, pair.privateKeyPem, { mode: 0o600 }));
  await writeDataAtomically(publicPath, pair.publicKeyPem);
  console.log(`wrote ${o.type} key pair: ${privatePath} (private: keep it secret) and ${publicPath} (public: give it to --trust)`);
  console.log(`  key id ${pair.keyId}`);
}

export async function runSign(
  dir: string,
  o: { key?: string; kmsKeyId?: string; kmsEndpointUrl?: string; region?: string; profile?: string },
): Promise<void> {
  if ((o.key === undefined) === (o.kmsKeyId === undefined)) {
    throw new UsageError('sign needs exactly one of --key KEY.pem and --kms-key-id ARN');
  }
  const signer =
    o.key !== undefined
      ? await localSigner(o.key)
      : (await import('./kms-keys')).kmsSigner(
          createKmsClient({ endpointUrl: o.kmsEndpointUrl, region: o.region, profile: o.profile }),
          o.kmsKeyId!,
        );
  const r = await signPackage(dir, signer);
  console.log(`signed ${r.name}@${r.version}: ${r.files} files, key ${r.keyId}`);
  console.log(`  wrote ${r.file}`);
}
