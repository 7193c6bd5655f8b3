import { spawnSync } from 'node:child_process';
/**
 * Signing and verifying packages with local keys, with real crypto: ECDSA P-256 and Ed25519 through
 * node:crypto, a real package, and every refusal the trust policy makes, each naming the file and the check.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../lib/package/hash';
import { readManifest } from '../../lib/package/manifest';
import { SIGNATURE_FILE } from '../../lib/package/package-files';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../../lib/trust/envelope';
import { SignatureError } from '../../lib/trust/errors';
import { generateLocalKeyPair, localSigner, type LocalKeyType } from '../../lib/trust/local-keys';
import { signPackage } from '../../lib/trust/sign-package';
import { PACKAGE_PREDICATE_TYPE, packageStatement, STATEMENT_TYPE } from '../../lib/trust/statement';
import { trustPolicy, type TrustPolicy } from '../../lib/trust/trust-policy';
import { verifyPackageSignature } from '../../lib/trust/verify-signature';
import { loadPackages } from '../../lib/local/load-packages';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';

interface KeyFiles {
  readonly privatePath: string;
  readonly publicPath: string;
  readonly keyId: string;
}

function keyFiles(dir: string, type: LocalKeyType, name: string = type): KeyFiles {
  const pair = generateLocalKeyPair(type);
  const privatePath = join(dir, `${name}.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  writeFileSync(privatePath, pair.privateKeyPem);
  writeFileSync(publicPath, pair.publicKeyPem);
  return { privatePath, publicPath, keyId: pair.keyId };
}

async function policyOf(...keys: KeyFiles[]): Promise<TrustPolicy> {
  return (await trustPolicy({ publicKeyFiles: keys.map((k) => k.publicPath) }))!;
}

async function refusal(promise: Promise<unknown>): Promise<SignatureError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SignatureError);
  return err as SignatureError;
}

let work: string;
let base: FixturePackage;
let ecdsa: KeyFiles;
let ed25519: KeyFiles;

beforeAll(async () => {
  work = tempDir('modelship-trust-');
  base = await makeTinyMlpPackage(work, { extras: { labels: ['a', 'b', 'c'] } });
  ecdsa = keyFiles(work, 'ecdsa-p256');
  ed25519 = keyFiles(work, 'ed25519');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A fresh copy of the fixture package, so each test may sign or break its own. */
function copyOfPackage(): string {
  const dir = tempDir('modelship-signed-');
  cpSync(base.dir, dir, { recursive: true });
  return dir;
}

/** The fixture package signed by the ECDSA key, made once; tests break copies of it. */
let signedDir: string;
beforeAll(async () => {
  signedDir = copyOfPackage();
  await signPackage(signedDir, await localSigner(ecdsa.privatePath));
});

function copyOfSigned(): string {
  const dir = tempDir('modelship-signed-');
  cpSync(signedDir, dir, { recursive: true });
  return dir;
}

/** Signs `statement` with the trusted ECDSA key and writes it as the package's signature.json. */
async function writeSignedStatement(dir: string, statement: unknown): Promise<void> {
  const payload = Buffer.from(JSON.stringify(statement));
  const { sig, keyId } = await (await localSigner(ecdsa.privatePath)).sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
  const envelope = {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: sig.toString('base64') }],
  };
  writeFileSync(join(dir, SIGNATURE_FILE), JSON.stringify(envelope));
}

test('PAE is the DSSE v1 encoding (the spec example)', () => {
  expect(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
});

test.each(['ecdsa-p256', 'ed25519'] as const)(
  'a package signed with %s verifies, and its statement lists every file with its sha256',
  async (type) => {
    // GIVEN a package and a key pair
    const dir = copyOfPackage();
    const key = type === 'ecdsa-p256' ? ecdsa : ed25519;
    // WHEN it is signed
    const signed = await signPackage(dir, await localSigner(key.privatePath));
    // THEN the key id is the public key's fingerprint, and the policy holding that public key accepts it
    expect(signed.keyId).toBe(key.keyId);
    const trusted = await verifyPackageSignature(dir, await policyOf(key));
    expect(trusted).toEqual({ name: 'tiny-mlp', version: '1.0.0', keyId: key.keyId, keySource: key.publicPath, files: 7 });
    // AND the envelope's payload is an in-toto statement over every file of the package
    const envelope = JSON.parse(readFileSync(join(dir, SIGNATURE_FILE), 'utf8')) as { payloadType: string; payload: string };
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as {
      _type: string;
      predicateType: string;
      subject: { name: string; digest: { sha256: string } }[];
      predicate: { package: { name: string; version: string; manifest: { digest: { sha256: string } } } };
    };
    expect(statement._type).toBe(STATEMENT_TYPE);
    expect(statement.predicateType).toBe(PACKAGE_PREDICATE_TYPE);
    const samples = [0, 1].flatMap((i) => [`samples/${i}.request.json`, `samples/${i}.response.json`]);
    const names = ['modelship.json', 'labels.json', 'model.onnx', ...samples];
    expect(statement.subject.map((s) => s.name)).toEqual(names);
    for (const s of statement.subject) expect(s.digest.sha256).toBe(sha256(readFileSync(join(dir, s.name))));
    expect(statement.predicate.package).toMatchObject({ name: 'tiny-mlp', version: '1.0.0' });
    expect(statement.predicate.package.manifest.digest.sha256).toBe(sha256(readFileSync(join(dir, 'modelship.json'))));
  },
);

test('any key of a policy with several may have signed', async () => {
  const dir = copyOfPackage();
  await signPackage(dir, await localSigner(ed25519.privatePath));
  expect((await verifyPackageSignature(dir, await policyOf(ecdsa, ed25519))).keyId).toBe(ed25519.keyId);
});

describe('refusals, each naming the file and the check', () => {
  test('an unsigned package', async () => {
    const dir = copyOfPackage();
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toBe(
      `${join(dir, SIGNATURE_FILE)} is missing: the package is unsigned, and the trust policy accepts only packages signed by key ${ecdsa.keyId.slice(0, 16)}`,
    );
  });

  test('a key that is not in the trust policy', async () => {
    const other = keyFiles(work, 'ecdsa-p256', 'other');
    const err = await refusal(verifyPackageSignature(signedDir, await policyOf(other)));
    expect(err.message).toContain(
      `${join(signedDir, SIGNATURE_FILE)}: signature check failed: signed by ${ecdsa.keyId}, a key the trust policy does not hold`,
    );
  });

  test('one byte of the model changed', async () => {
    const dir = copyOfSigned();
    const model = readFileSync(join(dir, 'model.onnx'));
    model[model.length - 3] ^= 0x01;
    writeFileSync(join(dir, 'model.onnx'), model);
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toMatch(
      new RegExp(`^${join(dir, 'model.onnx')}: digest check failed: sha256 ${sha256(model)}, but the signature says [0-9a-f]{64}`),
    );
  });

  test('a file present in the package but not signed', async () => {
    const dir = copyOfSigned();
    writeFileSync(join(dir, 'samples', 'extra.json'), '{}');
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toBe(`${join(dir, 'samples/extra.json')}: unsigned-file check failed: the file is in the package but not signed`);
  });

  test('a signed file that is missing', async () => {
    const dir = copyOfSigned();
    rmSync(join(dir, 'labels.json'));
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toBe(`${join(dir, 'labels.json')}: digest check failed: the file is signed but missing`);
    // The pre-traffic hook's asset holds only some of the files: those it has must match.
    await expect(verifyPackageSignature(dir, await policyOf(ecdsa), { presentFilesOnly: true })).resolves.toMatchObject({
      name: 'tiny-mlp',
    });
  });

  test('a payload altered after signing (the signature no longer verifies)', async () => {
    const dir = copyOfSigned();
    const path = join(dir, SIGNATURE_FILE);
    const envelope = JSON.parse(readFileSync(path, 'utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { subject: { digest: { sha256: string } }[] };
    statement.subject[2].digest.sha256 = '0'.repeat(64);
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    writeFileSync(path, JSON.stringify(envelope));
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toBe(
      `${path}: signature check failed: the signature by ${ecdsa.keyId} does not verify; the file was altered after signing, or signed over other content`,
    );
  });

  test('a signature over a different package', async () => {
    // GIVEN version 2.0.0 of another package, signed by the trusted key, and its signature copied over
    const other = await makeTinyMlpPackage(tempDir(), { seed: 99, version: '2.0.0' });
    await signPackage(other.dir, await localSigner(ecdsa.privatePath));
    const dir = copyOfSigned();
    cpSync(join(other.dir, SIGNATURE_FILE), join(dir, SIGNATURE_FILE));
    // THEN the digests of this package's files do not match what that signature says
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toMatch(/^.*modelship\.json: digest check failed: sha256 [0-9a-f]{64}, but the signature says/);
  });

  test('a statement whose predicate names another version than the signed manifest', async () => {
    // GIVEN a statement, signed by the trusted key, whose digests all match but whose predicate claims 9.9.9
    const dir = copyOfPackage();
    const statement = await packageStatement(dir, readManifest(dir));
    const claimed = { ...statement, predicate: { ...statement.predicate, package: { ...statement.predicate.package, version: '9.9.9' } } };
    await writeSignedStatement(dir, claimed);
    // THEN the package check refuses it by name and version
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toBe(
      `${join(dir, SIGNATURE_FILE)}: package check failed: the signature is over tiny-mlp@9.9.9, but the package is tiny-mlp@1.0.0`,
    );
  });

  test('a malformed signature.json', async () => {
    const dir = copyOfSigned();
    const path = join(dir, SIGNATURE_FILE);
    writeFileSync(path, '{"payloadType": "application/vnd.in-toto+json", "signatures": []}');
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toBe(`${path} is not a DSSE envelope: payload: Required; signatures: must hold at least one signature`);
    writeFileSync(path, 'not json');
    expect((await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)))).message).toMatch(
      new RegExp(`^${path} is not JSON \\(.*\\), so it is not a DSSE envelope$`),
    );
  });
});

describe('a loader that hashes the model itself (modelHashedByLoader)', () => {
  test('leaves a changed model to the loader, which refuses it against the signed manifest', async () => {
    const dir = copyOfSigned();
    const model = readFileSync(join(dir, 'model.onnx'));
    model[model.length - 3] ^= 0x01;
    writeFileSync(join(dir, 'model.onnx'), model);
    // The check itself passes: it did not hash the model...
    await expect(verifyPackageSignature(dir, await policyOf(ecdsa), { modelHashedByLoader: true })).resolves.toMatchObject({
      name: 'tiny-mlp',
    });
    // ...and serve's loader, which passes the option, refuses the package on the model's sha256.
    const loaded = await loadPackages([dir], {}, await policyOf(ecdsa));
    expect(loaded.engines).toEqual([]);
    expect(loaded.failures[0].reason).toMatch(/^model\.onnx .*sha256/);
  });

  test('an intact signed package loads', async () => {
    const loaded = await loadPackages([copyOfSigned()], {}, await policyOf(ecdsa));
    expect(loaded.failures).toEqual([]);
    expect(loaded.engines.map((e) => `${e.name}@${e.version}`)).toEqual(['tiny-mlp@1.0.0']);
    await Promise.all(loaded.engines.map((e) => e.release()));
  });

  test('still hashes and checks the manifest, and every other signed file', async () => {
    const dir = copyOfSigned();
    const manifestPath = join(dir, 'modelship.json');
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace('"1.0.0"', '"1.0.1"'));
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa), { modelHashedByLoader: true }));
    expect(err.message).toMatch(new RegExp(`^${manifestPath}: digest check failed: sha256 [0-9a-f]{64}, but the signature says`));
    const other = copyOfSigned();
    writeFileSync(join(other, 'labels.json'), '["x","y","z"]');
    const labels = await refusal(verifyPackageSignature(other, await policyOf(ecdsa), { modelHashedByLoader: true }));
    expect(labels.message).toMatch(/labels\.json: digest check failed: sha256 [0-9a-f]{64}, but the signature says/);
  });

  test("refuses a statement whose model digest is not the signed manifest's", async () => {
    // GIVEN a statement signed by the trusted key whose model subject names another digest than the manifest's
    const dir = copyOfPackage();
    const statement = await packageStatement(dir, readManifest(dir));
    const subject = statement.subject.map((s) => (s.name === 'model.onnx' ? { ...s, digest: { sha256: 'a'.repeat(64) } } : s));
    await writeSignedStatement(dir, { ...statement, subject });
    // THEN the check refuses it without hashing the model, naming both digests
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa), { modelHashedByLoader: true }));
    expect(err.message).toBe(
      `${join(dir, 'model.onnx')}: digest check failed: the signature says sha256 ${'a'.repeat(64)}, but the signed modelship.json says ${readManifest(dir).model.sha256}`,
    );
  });
});

describe('keys', () => {
  test('an RSA key is refused for signing and for trust, by type', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const priv = join(work, 'rsa.pem');
    const pub = join(work, 'rsa.pub.pem');
    writeFileSync(priv, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pub, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await refusal(localSigner(priv))).message).toBe(
      `${priv} is a rsa key; package signatures use ECDSA P-256 or Ed25519 keys (modelship keygen makes one)`,
    );
    expect((await refusal(trustPolicy({ publicKeyFiles: [pub] }))).message).toContain(`${pub} is a rsa key`);
  });

  test('an EC key on another curve is refused, naming the curve', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const pub = join(work, 'p384.pub.pem');
    writeFileSync(pub, p384.publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await refusal(trustPolicy({ publicKeyFiles: [pub] }))).message).toContain(`${pub} is an EC key on secp384r1`);
  });

  test('a private key given as a trusted key is refused', async () => {
    expect((await refusal(trustPolicy({ publicKeyFiles: [ecdsa.privatePath] }))).message).toBe(
      `${ecdsa.privatePath} holds a private key; --trust takes the public key (KEY.pub.pem)`,
    );
  });

  test('a file that is no key', async () => {
    const junk = join(work, 'junk.pem');
    writeFileSync(junk, 'hello');
    expect((await refusal(localSigner(junk))).message).toMatch(new RegExp(`^${junk} is not a private key in PEM form: `));
  });
});

test('sign refuses a directory holding files the manifest does not name, and writes nothing', async () => {
  const dir = copyOfPackage();
  writeFileSync(join(dir, 'notes.txt'), 'draft');
  const err = await refusal(signPackage(dir, await localSigner(ecdsa.privatePath)));
  expect(err.message).toBe(
    `${dir} holds files its manifest does not name (notes.txt): they would be neither published nor signed; remove them first`,
  );
  expect(() => readFileSync(join(dir, SIGNATURE_FILE))).toThrow(/ENOENT/);
});

describe("a killed signer's temporary signature.json", () => {
  /** The name an atomic write of signature.json gives its temporary copy (lib/util/temp-siblings.ts), by a writer that has exited. */
  function leftoverName(): string {
    const { pid } = spawnSync(process.execPath, ['-e', '']);
    return `.${SIGNATURE_FILE}.tmp-${pid}-${'ab12'.repeat(3)}`;
  }

  test('is not a package file: the signed package still verifies', async () => {
    const dir = copyOfSigned();
    writeFileSync(join(dir, leftoverName()), '{"half": ');
    expect((await verifyPackageSignature(dir, await policyOf(ecdsa))).keyId).toMatch(/^[0-9a-f]{64}$/);
  });

  test('does not stop sign, which removes it', async () => {
    const dir = copyOfSigned();
    const leftover = leftoverName();
    writeFileSync(join(dir, leftover), '{"half": ');
    await signPackage(dir, await localSigner(ed25519.privatePath));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect((await verifyPackageSignature(dir, await policyOf(ed25519))).keyId).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a name only like it is an unsigned file', async () => {
    const dir = copyOfSigned();
    writeFileSync(join(dir, `.${SIGNATURE_FILE}.tmp-1-notahexsuffix`), '{}');
    const err = await refusal(verifyPackageSignature(dir, await policyOf(ecdsa)));
    expect(err.message).toBe(
      `${join(dir, `.${SIGNATURE_FILE}.tmp-1-notahexsuffix`)}: unsigned-file check failed: the file is in the package but not signed`,
    );
  });
});

test('sign refuses a package that does not verify', async () => {
  const dir = copyOfPackage();
  const model = readFileSync(join(dir, 'model.onnx'));
  model[model.length - 3] ^= 0x01;
  writeFileSync(join(dir, 'model.onnx'), model);
  await expect(signPackage(dir, await localSigner(ecdsa.privatePath))).rejects.toThrow(/does not verify, so it is not signed/);
});
