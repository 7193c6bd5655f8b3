/**
 * The check a Lambda function makes at init when LambdaModel gave it a trust policy: the policy from its
 * environment (lib/trust/trust-policy.ts), then the package's signature. The environment is read when
 * the check is made, synchronously at module load like every other variable the handlers read; a
 * function without a policy pays for nothing but reading two variables.
 */
import type { Env } from '../util/env';
import { TRUST_ENV } from './trust-policy';
import type { SignatureCheckOptions, TrustedPackage } from './verify-signature';

export type SignatureCheck = (dir: string, options?: SignatureCheckOptions) => Promise<TrustedPackage>;

/** The signature check the environment asks for, or undefined when it sets no trust policy. */
export function signatureCheckFromEnv(env: Env = process.env): SignatureCheck | undefined {
  const policyEnv = { [TRUST_ENV.PUBLIC_KEYS]: env[TRUST_ENV.PUBLIC_KEYS], [TRUST_ENV.KMS_KEYS]: env[TRUST_ENV.KMS_KEYS] };
  if (!policyEnv[TRUST_ENV.PUBLIC_KEYS] && !policyEnv[TRUST_ENV.KMS_KEYS]) return undefined;
  return async (dir, options) => {
    const [{ trustPolicyFromEnv }, { verifyPackageSignature }] = await Promise.all([
      import('./trust-policy'),
      import('./verify-signature'),
    ]);
    const policy = (await trustPolicyFromEnv(policyEnv))!;
    return verifyPackageSignature(dir, policy, options);
  };
}
