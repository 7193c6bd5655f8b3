/**
 * AWS KMS asymmetric keys (ECC_NIST_P256, SIGN_VERIFY) as signers and verifiers, through the SDK's
 * Sign and Verify with ECDSA_SHA_256. The message sent is the SHA-256 digest of what is signed
 * (MessageType DIGEST): KMS takes at most 4 KB of raw message, and a signature over the digest is the same
 * ECDSA signature a local P-256 key makes over the bytes. The private key never leaves KMS; verifying
 * needs only kms:Verify on the one key.
 */
import { KMSClient, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import { createHash } from 'node:crypto';
import { SignatureError } from './errors';
import type { Signer, Verifier } from './local-keys';

const ALGORITHM = 'ECDSA_SHA_256';

function digest(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A KMS refusal in words that say what is wrong with the key; never the request or any credential. */
function keyProblem(err: unknown, keyId: string, doing: string): SignatureError {
  const name = err instanceof Error ? err.name : '';
  const detail = err instanceof Error ? err.message : String(err);
  const reason =
    name === 'DisabledException'
      ? 'the key is disabled'
      : name === 'KMSInvalidStateException'
        ? `the key cannot be used in its current state (pending deletion, or pending import): ${detail}`
        : name === 'InvalidKeyUsageException'
          ? `the key is not an ECC_NIST_P256 SIGN_VERIFY key, which ${ALGORITHM} needs: ${detail}`
          : name === 'NotFoundException'
            ? 'no such key'
            : name === 'AccessDeniedException' || name === 'AccessDenied'
              ? `access denied (the caller needs kms:${doing === 'sign' ? 'Sign' : 'Verify'} on this key)`
              : `${name || 'error'}: ${detail}`;
  return new SignatureError(`KMS key ${keyId} cannot ${doing}: ${reason}`, { cause: err });
}

/** Signs with a KMS key; the id written is the key's ARN as KMS reports it, whatever alias was given. */
export function kmsSigner(client: KMSClient, keyId: string): Signer {
  return {
    source: `KMS key ${keyId}`,
    async sign(data) {
      let out;
      try {
        out = await client.send(
          new SignCommand({ KeyId: keyId, Message: digest(data), MessageType: 'DIGEST', SigningAlgorithm: ALGORITHM }),
        );
      } catch (err) {
        throw keyProblem(err, keyId, 'sign');
      }
      if (out.Signature === undefined) throw new SignatureError(`KMS key ${keyId} returned no signature`);
      return { sig: Buffer.from(out.Signature), keyId: out.KeyId ?? keyId };
    },
  };
}

/** Verifies with a KMS key. `keyId` is what the trust policy names: a key ARN, key id or alias. */
export function kmsVerifier(client: KMSClient, keyId: string): Verifier {
  return {
    keyId,
    source: `KMS key ${keyId}`,
    async verify(data, sig) {
      try {
        const out = await client.send(
          new VerifyCommand({ KeyId: keyId, Message: digest(data), MessageType: 'DIGEST', Signature: sig, SigningAlgorithm: ALGORITHM }),
        );
        return out.SignatureValid === true;
      } catch (err) {
        if (err instanceof Error && err.name === 'KMSInvalidSignatureException') return false;
        throw keyProblem(err, keyId, 'verify');
      }
    },
  };
}

export interface KmsClientOptions {
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly profile?: string;
}

export function createKmsClient(options: KmsClientOptions = {}): KMSClient {
  return new KMSClient({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.endpointUrl !== undefined ? { endpoint: options.endpointUrl } : {}),
  });
}
