/**
 * The check a Lambda function makes at init when LambdaModel gave it a trust policy: the policy from its
 * environment (lib/trust/trust-policy.ts), then the package's signature. A function without one pays for
 * nothing but reading two environment variables.
 */
import type { Env } from '../util/env';
import { TRUST_ENV } from './trust-policy';
import type { SignatureCheckOptions, TrustedPackage } from './verify-signature';

/** Verifies the package in `dir` when the environment sets a trust policy; resolves undefined when it sets none. */
export async function checkTrustFromEnv(
  dir: string,
  env: Env = process.env,
  options: SignatureCheckOptions = {},
): Promise<TrustedPackage | undefined> {
  if (!env[TRUST_ENV.PUBLIC_KEYS] && !env[TRUST_ENV.KMS_KEYS]) return undefined;
  const [{ trustPolicyFromEnv }, { verifyPackageSignature }] = await Promise.all([import('./trust-policy'), import('./verify-signature')]);
  const policy = await trustPolicyFromEnv(env);
  return policy === undefined ? undefined : verifyPackageSignature(dir, policy, options);
}
