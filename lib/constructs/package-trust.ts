/**
 * Which signatures a deployed model accepts (see lib/trust). A function given a trust policy checks its
 * package's `signature.json` at init, before the model is read or its session created; the pre-traffic
 * hook checks the golden samples it holds the same way. An unsigned, altered or wrongly signed package
 * fails the init, so the version never serves and its canary rolls back.
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { localVerifier } from '../trust/local-keys';
import { TRUST_ENV } from '../trust/trust-policy';

/** What a trust policy adds to one function. */
export interface PackageTrustBinding {
  readonly environment: Record<string, string>;
}

export abstract class PackageTrust {
  /**
   * Packages signed by any of these public keys (PEM, ECDSA P-256 or Ed25519), as `modelship keygen`
   * writes them. A public key is not a secret: it sits in the function's environment.
   * @throws SignatureError at synth when a PEM is not such a public key
   */
  static publicKey(...pems: string[]): PackageTrust {
    if (pems.length === 0) throw new RangeError('PackageTrust.publicKey needs at least one PEM public key');
    pems.forEach((pem, i) => localVerifier(pem, `PackageTrust.publicKey key ${i + 1}`));
    return new PublicKeyTrust(pems.map((p) => p.trim()));
  }

  /**
   * Packages signed by this AWS KMS key (ECC_NIST_P256, SIGN_VERIFY; `modelship sign --kms-key-id`).
   * Each function that checks gets kms:Verify on this key and nothing else.
   */
  static kmsKey(key: kms.IKey): PackageTrust {
    return new KmsKeyTrust(key);
  }

  /** npm modules the check loads at init, which the function's bundle must hold. */
  abstract readonly modules: readonly string[];

  /** Grants `role` what checking needs, and returns the environment that makes the function check. */
  abstract bind(role: iam.IGrantable): PackageTrustBinding;
}

class PublicKeyTrust extends PackageTrust {
  readonly modules: readonly string[] = [];

  constructor(private readonly pems: readonly string[]) {
    super();
  }

  bind(): PackageTrustBinding {
    return { environment: { [TRUST_ENV.PUBLIC_KEYS]: this.pems.join('\n') } };
  }
}

class KmsKeyTrust extends PackageTrust {
  readonly modules: readonly string[] = ['@aws-sdk/client-kms'];

  constructor(private readonly key: kms.IKey) {
    super();
  }

  bind(role: iam.IGrantable): PackageTrustBinding {
    this.key.grant(role, 'kms:Verify');
    return { environment: { [TRUST_ENV.KMS_KEYS]: this.key.keyArn } };
  }
}
