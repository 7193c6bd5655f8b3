/**
 * A trust policy: the keys whose signatures a loader accepts. From the CLI (`--trust PUBLIC.pem`,
 * `--trust-kms ARN`, each repeatable) or from a Lambda function's environment, which LambdaModel sets
 * from its `trust` property. The KMS client and its module are loaded only when a KMS key is trusted.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import type { Env } from '../util/env';
import { SignatureError } from './errors';
import { localVerifier, localVerifierFromFile, type Verifier } from './local-keys';

export interface TrustPolicy {
  /** Every key the policy holds; a package is trusted when one of them verifies its signature. */
  readonly verifiers: readonly Verifier[];
}

/** The environment a function with a trust policy is configured with. */
export const TRUST_ENV = {
  /** One or more public key PEM blocks. */
  PUBLIC_KEYS: 'MODEL_TRUST_PUBLIC_KEYS',
  /** Comma-separated KMS key ARNs. */
  KMS_KEYS: 'MODEL_TRUST_KMS_KEYS',
} as const;

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

export interface TrustOptions {
  /** Public key PEM files. */
  readonly publicKeyFiles?: readonly string[];
  /** KMS key ARNs, key ids or aliases. */
  readonly kmsKeyIds?: readonly string[];
  /** The client for `kmsKeyIds`. @default - a new KMSClient from the standard chain */
  readonly kmsClient?: KMSClient;
}

/** The policy the options describe, or undefined when they name no key (no policy: signatures are not required). */
export async function trustPolicy(options: TrustOptions): Promise<TrustPolicy | undefined> {
  const files = options.publicKeyFiles ?? [];
  const kmsIds = options.kmsKeyIds ?? [];
  if (files.length === 0 && kmsIds.length === 0) return undefined;
  const local: Verifier[] = [];
  for (const file of files) local.push(await localVerifierFromFile(file));
  return { verifiers: [...local, ...(await kmsVerifiers(kmsIds, options.kmsClient))] };
}

/** Verifiers for KMS keys; the KMS module and a client are loaded only when there are any. */
async function kmsVerifiers(keyIds: readonly string[], client?: KMSClient): Promise<Verifier[]> {
  if (keyIds.length === 0) return [];
  const { createKmsClient, kmsVerifier } = await import('./kms-keys');
  const kms = client ?? createKmsClient();
  return keyIds.map((id) => kmsVerifier(kms, id));
}

/** The policy a function's environment holds, or undefined when it sets none. */
export async function trustPolicyFromEnv(env: Env = process.env, kmsClient?: KMSClient): Promise<TrustPolicy | undefined> {
  const pems = env[TRUST_ENV.PUBLIC_KEYS] ?? '';
  const kms = (env[TRUST_ENV.KMS_KEYS] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const blocks = pems.match(PEM_BLOCK) ?? [];
  if (pems.trim() !== '' && blocks.length === 0) {
    throw new SignatureError(`${TRUST_ENV.PUBLIC_KEYS} holds no PEM public key block`);
  }
  const verifiers = [
    ...blocks.map((pem, i) => localVerifier(pem, `${TRUST_ENV.PUBLIC_KEYS} key ${i + 1}`)),
    ...(await kmsVerifiers(kms, kmsClient)),
  ];
  return verifiers.length === 0 ? undefined : { verifiers };
}

/**
 * The policy's keys in a few words, for refusals: by id only, never by file, since a server shows the
 * refusal to its callers.
 */
export function describeTrusted(policy: TrustPolicy): string {
  return policy.verifiers.map((v) => (v.source.startsWith('KMS key') ? v.source : `key ${v.keyId.slice(0, 16)}`)).join(', ');
}
