/**
 * Signing and verifying with AWS KMS through the real @aws-sdk/client-kms, whose Sign and Verify are
 * answered by aws-sdk-client-mock handlers that do the ECDSA with real local P-256 keys (see
 * p256-digest.ts): the bytes the client sends and the signatures it gets back are real, and a signature
 * made "in KMS" verifies with the key's public half through node:crypto, as any DSSE verifier would check it.
 */
import {
  DisabledException,
  InvalidKeyUsageException,
  KMSClient,
  KMSInvalidSignatureException,
  KMSInvalidStateException,
  SignCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIGNATURE_FILE } from '../../lib/package/package-files';
import { SignatureError } from '../../lib/trust/errors';
import { kmsSigner, kmsVerifier } from '../../lib/trust/kms-keys';
import { localVerifier } from '../../lib/trust/local-keys';
import { signPackage } from '../../lib/trust/sign-package';
import { verifyPackageSignature } from '../../lib/trust/verify-signature';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { signDigest, verifyDigest } from './p256-digest';

const ARN = (n: string) => `arn:aws:kms:us-east-1:123456789012:key/${n}`;

interface FakeKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  readonly spec: 'ECC_NIST_P256' | 'RSA_2048';
}

const keys = new Map<string, FakeKey>();
const calls: { command: string; KeyId?: string; MessageType?: string; SigningAlgorithm?: string; bytes: number }[] = [];

function addKey(id: string, spec: FakeKey['spec'] = 'ECC_NIST_P256'): FakeKey {
  const pair =
    spec === 'RSA_2048' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key: FakeKey = { ...pair, state: 'Enabled', spec };
  keys.set(ARN(id), key);
  return key;
}

const meta = { $metadata: {} };

/** What KMS answers for a key it cannot use, with the exception classes the SDK itself throws. */
function usable(keyId: string | undefined, algorithm: string | undefined): FakeKey {
  const key = keys.get(keyId ?? '');
  if (key === undefined) throw new Error(`test: unknown key ${keyId}`);
  if (key.state === 'Disabled') throw new DisabledException({ ...meta, message: `${keyId} is disabled.` });
  if (key.state === 'PendingDeletion') throw new KMSInvalidStateException({ ...meta, message: `${keyId} is pending deletion.` });
  if (key.spec !== 'ECC_NIST_P256' || algorithm !== 'ECDSA_SHA_256') {
    throw new InvalidKeyUsageException({ ...meta, message: `KMS key ${keyId} does not support ${algorithm}` });
  }
  return key;
}

const kms = mockClient(KMSClient);
kms.on(SignCommand).callsFake((input: { KeyId?: string; Message?: Uint8Array; MessageType?: string; SigningAlgorithm?: string }) => {
  calls.push({ command: 'Sign', ...input, bytes: input.Message?.length ?? 0 });
  const key = usable(input.KeyId, input.SigningAlgorithm);
  if (input.MessageType !== 'DIGEST' || input.Message?.length !== 32) throw new Error('test: expected a 32-byte DIGEST');
  return { KeyId: input.KeyId, Signature: signDigest(key.privateKey, input.Message), SigningAlgorithm: input.SigningAlgorithm };
});
kms
  .on(VerifyCommand)
  .callsFake((input: { KeyId?: string; Message?: Uint8Array; Signature?: Uint8Array; MessageType?: string; SigningAlgorithm?: string }) => {
    calls.push({ command: 'Verify', ...input, bytes: input.Message?.length ?? 0 });
    const key = usable(input.KeyId, input.SigningAlgorithm);
    if (!verifyDigest(key.publicKey, input.Message!, input.Signature!)) {
      throw new KMSInvalidSignatureException({ ...meta, message: 'Signature is not valid.' });
    }
    return { KeyId: input.KeyId, SignatureValid: true, SigningAlgorithm: input.SigningAlgorithm };
  });

const client = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
let signedDir: string;
let signingKey: FakeKey;

beforeAll(async () => {
  signingKey = addKey('signing');
  const pkg = await makeTinyMlpPackage(tempDir());
  signedDir = pkg.dir;
  await signPackage(signedDir, kmsSigner(client, ARN('signing')));
});
afterAll(() => kms.restore());

function copyOfSigned(): string {
  const dir = tempDir('modelship-kms-');
  cpSync(signedDir, dir, { recursive: true });
  return dir;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SignatureError);
  return (err as Error).message;
}

test('KMS signs a digest of the DSSE encoding, and its signature verifies through KMS and with its public key', async () => {
  // THEN the client sent KMS a 32-byte SHA-256 digest with ECDSA_SHA_256
  expect(calls.find((c) => c.command === 'Sign')).toMatchObject({
    KeyId: ARN('signing'),
    MessageType: 'DIGEST',
    SigningAlgorithm: 'ECDSA_SHA_256',
    bytes: 32,
  });
  // AND the signature names the key's ARN
  const envelope = JSON.parse(readFileSync(join(signedDir, SIGNATURE_FILE), 'utf8')) as { signatures: { keyid: string }[] };
  expect(envelope.signatures[0].keyid).toBe(ARN('signing'));
  // AND kms:Verify accepts it
  await expect(verifyPackageSignature(signedDir, { verifiers: [kmsVerifier(client, ARN('signing'))] })).resolves.toMatchObject({
    name: 'tiny-mlp',
    keyId: ARN('signing'),
    keySource: `KMS key ${ARN('signing')}`,
  });
  // AND so does node:crypto with the key's public half: KMS's signature is an ordinary DSSE ECDSA signature
  const pem = signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await expect(verifyPackageSignature(signedDir, { verifiers: [localVerifier(pem, 'the KMS public key')] })).resolves.toMatchObject({
    files: 6,
  });
});

test('a package altered after a KMS signature is refused by the digest check', async () => {
  const dir = copyOfSigned();
  const model = readFileSync(join(dir, 'model.onnx'));
  model[model.length - 1] ^= 0xff;
  writeFileSync(join(dir, 'model.onnx'), model);
  expect(await refusal(verifyPackageSignature(dir, { verifiers: [kmsVerifier(client, ARN('signing'))] }))).toMatch(
    /model\.onnx: digest check failed: sha256 [0-9a-f]{64}, but the signature says [0-9a-f]{64}; the file was changed after signing$/,
  );
});

test('a key that is not in the trust policy', async () => {
  addKey('other');
  expect(await refusal(verifyPackageSignature(signedDir, { verifiers: [kmsVerifier(client, ARN('other'))] }))).toBe(
    `${join(signedDir, SIGNATURE_FILE)}: signature check failed: signed by ${ARN('signing')}, a key the trust policy does not hold (it trusts KMS key ${ARN('other')})`,
  );
});

test('a disabled key, and one pending deletion, are refused by name, for signing and verifying', async () => {
  const disabled = addKey('disabled');
  disabled.state = 'Disabled';
  expect(await refusal(verifyPackageSignature(signedDir, { verifiers: [kmsVerifier(client, ARN('disabled'))] }))).toBe(
    `KMS key ${ARN('disabled')} cannot verify: the key is disabled`,
  );
  expect(await refusal(signPackage(copyOfSigned(), kmsSigner(client, ARN('disabled'))))).toBe(
    `KMS key ${ARN('disabled')} cannot sign: the key is disabled`,
  );
  const doomed = addKey('doomed');
  doomed.state = 'PendingDeletion';
  expect(await refusal(verifyPackageSignature(signedDir, { verifiers: [kmsVerifier(client, ARN('doomed'))] }))).toBe(
    `KMS key ${ARN('doomed')} cannot verify: the key cannot be used in its current state (pending deletion, or pending import): ${ARN('doomed')} is pending deletion.`,
  );
});

test('a key of the wrong type is refused, saying which type is needed', async () => {
  addKey('rsa', 'RSA_2048');
  expect(await refusal(signPackage(copyOfSigned(), kmsSigner(client, ARN('rsa'))))).toBe(
    `KMS key ${ARN('rsa')} cannot sign: the key is not an ECC_NIST_P256 SIGN_VERIFY key, which ECDSA_SHA_256 needs: KMS key ${ARN('rsa')} does not support ECDSA_SHA_256`,
  );
});

test('the digest helper is real ECDSA: node:crypto rejects its signature over other bytes', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const digest = Buffer.alloc(32, 7);
  const sig = signDigest(privateKey, digest);
  expect(verifyDigest(publicKey, digest, sig)).toBe(true);
  expect(verifyDigest(publicKey, Buffer.alloc(32, 8), sig)).toBe(false);
});
