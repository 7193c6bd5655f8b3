/**
 * Local signing keys, through node:crypto: ECDSA P-256 (signatures DER-encoded over SHA-256, as AWS KMS
 * writes ECDSA_SHA_256) or Ed25519. A key's id is the sha256 of its public key's SubjectPublicKeyInfo, so
 * the same key has the same id whether it came from a private or a public PEM.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignatureError } from './errors';

export type LocalKeyType = 'ecdsa-p256' | 'ed25519';
export const LOCAL_KEY_TYPES: readonly LocalKeyType[] = ['ecdsa-p256', 'ed25519'];

/** Something that signs bytes and says which key it used. */
export interface Signer {
  /** For messages: a key file, or a KMS key as given. */
  readonly source: string;
  /** The signature, and the id written next to it: a local key's fingerprint, or a KMS key's ARN. */
  sign(data: Buffer): Promise<{ readonly sig: Buffer; readonly keyId: string }>;
}

/** Something that checks a signature with one trusted key. */
export interface Verifier {
  readonly keyId: string;
  /** Where the key came from, for messages: a file, or a KMS key. */
  readonly source: string;
  /** True when `sig` is this key's signature over `data`; false when it is not. Throws when the key cannot be used. */
  verify(data: Buffer, sig: Buffer): Promise<boolean>;
}

function keyType(key: KeyObject, source: string): LocalKeyType {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  const what =
    key.asymmetricKeyType === 'ec'
      ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'}`
      : `a ${key.asymmetricKeyType ?? 'symmetric'} key`;
  throw new SignatureError(`${source} is ${what}; package signatures use ECDSA P-256 or Ed25519 keys (modelship keygen makes one)`);
}

/** The digest algorithm node:crypto's sign/verify take: SHA-256 for ECDSA, none for Ed25519 (it hashes itself). */
function digestFor(type: LocalKeyType): string | null {
  return type === 'ecdsa-p256' ? 'sha256' : null;
}

export function localKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new SignatureError(`${path}: cannot read the ${what}: ${(err as Error).message}`);
  }
}

/** A signer from a private key PEM (PKCS#8 or SEC1), such as the one `modelship keygen` writes. */
export async function localSigner(path: string): Promise<Signer> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readPem(path, 'private key'));
  } catch (err) {
    if (err instanceof SignatureError) throw err;
    throw new SignatureError(`${path} is not a private key in PEM form: ${(err as Error).message}`);
  }
  const type = keyType(key, path);
  const keyId = localKeyId(createPublicKey(key));
  return { source: path, sign: (data) => Promise.resolve({ sig: sign(digestFor(type), data, key), keyId }) };
}

/** A verifier from public key PEM text; `source` names where it came from. */
export function localVerifier(pem: string, source: string): Verifier {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new SignatureError(`${source} is not a public key in PEM form: ${(err as Error).message}`);
  }
  if (key.type !== 'public') throw new SignatureError(`${source} holds a private key; a trust policy takes public keys only`);
  const type = keyType(key, source);
  return {
    keyId: localKeyId(key),
    source,
    verify: (data, sig) => Promise.resolve(verify(digestFor(type), data, key, sig)),
  };
}

/** A verifier from a public key PEM file. */
export async function localVerifierFromFile(path: string): Promise<Verifier> {
  const pem = await readPem(path, 'public key');
  if (/PRIVATE KEY-----/.test(pem)) throw new SignatureError(`${path} holds a private key; --trust takes the public key (KEY.pub.pem)`);
  return localVerifier(pem, path);
}

/** A new key pair, as PKCS#8 and SPKI PEM text. */
export function generateLocalKeyPair(type: LocalKeyType): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const pair = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: localKeyId(pair.publicKey),
  };
}
