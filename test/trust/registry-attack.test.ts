/**
 * The attack a signature exists for, against a real S3-compatible server: someone who can write the
 * registry bucket replaces a published model, rewrites the manifest to the new model's sha256, rebuilds
 * the tarball and rewrites the index with the tarball's new sha256. Every hash then agrees, and without
 * a trust policy `pull` installs the replacement. With one, `pull --trust` refuses it, and so does a
 * Lambda init from the registry (lambda/inference.ts), even when told the attacker's tarball sha256.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../../lib/package/hash';
import { SIGNATURE_FILE } from '../../lib/package/package-files';
import { indexKey, packageKey, publishPackage, pullPackage, signatureKey, type PublishResult } from '../../lib/registry';
import { buildPackageTarball } from '../../lib/registry/package-tarball';
import { generateLocalKeyPair, localSigner } from '../../lib/trust/local-keys';
import { signPackage } from '../../lib/trust/sign-package';
import { trustPolicy, type TrustPolicy } from '../../lib/trust/trust-policy';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { LAMBDA_CONTEXT, loadInferenceHandler } from '../helpers/lambda-init';
import { restEvent } from '../contract/fronts';
import { BUCKET, startLocalS3, type LocalS3 } from '../registry/s3-server';

const REGISTRY = { bucket: BUCKET, prefix: 'attack' };

let s3: LocalS3;
let pkg: FixturePackage;
let published: PublishResult;
let policy: TrustPolicy;
let publicKeyPem: string;
let attackedSha256: string;
let savedEnv: NodeJS.ProcessEnv;

async function getObject(key: string): Promise<Buffer> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

beforeAll(async () => {
  s3 = await startLocalS3();
  const work = tempDir('modelship-attack-');
  const pair = generateLocalKeyPair('ecdsa-p256');
  writeFileSync(join(work, 'key.pem'), pair.privateKeyPem);
  writeFileSync(join(work, 'key.pub.pem'), pair.publicKeyPem);
  publicKeyPem = pair.publicKeyPem;
  policy = (await trustPolicy({ publicKeyFiles: [join(work, 'key.pub.pem')] }))!;

  // The publisher signs and publishes 1.0.0.
  pkg = await makeTinyMlpPackage(work, { version: '1.0.0' });
  await signPackage(pkg.dir, await localSigner(join(work, 'key.pem')));
  published = await publishPackage({ client: s3.client, registry: REGISTRY, dir: pkg.dir });

  // The attacker: other weights under the same name and version, the manifest's sha256 rewritten to match,
  // the old signature kept, a rebuilt tarball over the published one, and the index pointing at it.
  const evil = await makeTinyMlpPackage(mkdtempSync(join(tmpdir(), 'modelship-evil-')), { version: '1.0.0', seed: 1234 });
  const forged = mkdtempSync(join(tmpdir(), 'modelship-forged-'));
  cpSync(pkg.dir, forged, { recursive: true });
  cpSync(join(evil.dir, 'model.onnx'), join(forged, 'model.onnx'));
  const manifest = JSON.parse(readFileSync(join(forged, 'modelship.json'), 'utf8')) as { model: { sha256: string; bytes: number } };
  const evilModel = readFileSync(join(forged, 'model.onnx'));
  manifest.model = { ...manifest.model, sha256: sha256(evilModel), bytes: evilModel.length };
  writeFileSync(join(forged, 'modelship.json'), JSON.stringify(manifest));
  // The golden answers too, so that re-running the samples cannot tell.
  cpSync(join(evil.dir, 'samples'), join(forged, 'samples'), { recursive: true });
  const tarball = await buildPackageTarball(forged, join(forged, '..', 'forged.tgz'));
  attackedSha256 = tarball.sha256;
  const key = packageKey(REGISTRY, pkg.name, pkg.version);
  await s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(tarball.file), Metadata: { sha256: tarball.sha256 } }),
  );
  const index = JSON.parse((await getObject(indexKey(REGISTRY, pkg.name))).toString()) as { versions: { sha256: string; size: number }[] };
  index.versions[0] = { ...index.versions[0], sha256: tarball.sha256, size: tarball.bytes };
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: indexKey(REGISTRY, pkg.name), Body: JSON.stringify(index) }));
});
afterAll(() => s3.close());
beforeEach(() => {
  savedEnv = { ...process.env };
});
afterEach(() => {
  process.env = savedEnv;
});

test('publish put the signature in the tarball and beside it', async () => {
  expect(published.signatureKey).toBe(signatureKey(REGISTRY, pkg.name, pkg.version));
  expect(await getObject(published.signatureKey!)).toEqual(readFileSync(join(pkg.dir, SIGNATURE_FILE)));
});

test('without a trust policy, the forged package installs: every hash agrees', async () => {
  const out = join(tempDir(), 'pulled');
  const r = await pullPackage({ client: s3.client, registry: REGISTRY, name: pkg.name, version: pkg.version, outDir: out });
  expect(r.sha256).toBe(attackedSha256);
  expect(readFileSync(join(out, 'model.onnx'))).not.toEqual(readFileSync(join(pkg.dir, 'model.onnx')));
});

test('pull --trust refuses the forged package and installs nothing', async () => {
  const out = join(tempDir(), 'pulled');
  await expect(
    pullPackage({ client: s3.client, registry: REGISTRY, name: pkg.name, version: pkg.version, outDir: out, trust: policy }),
  ).rejects.toThrow(
    new RegExp(
      `^tiny-mlp@1\\.0\\.0 from s3://${BUCKET}/attack/tiny-mlp/1\\.0\\.0/package\\.tgz is refused: ${out}/modelship\\.json: digest check failed`,
    ),
  );
  expect(existsSync(out)).toBe(false);
});

test('pull --trust installs a genuine signed package', async () => {
  const other = await makeTinyMlpPackage(tempDir(), { version: '2.0.0' });
  // Signed with a key of its own policy, published, pulled.
  const work = tempDir();
  const pair = generateLocalKeyPair('ed25519');
  writeFileSync(join(work, 'k.pem'), pair.privateKeyPem);
  writeFileSync(join(work, 'k.pub.pem'), pair.publicKeyPem);
  await signPackage(other.dir, await localSigner(join(work, 'k.pem')));
  await publishPackage({ client: s3.client, registry: REGISTRY, dir: other.dir });
  const trust = (await trustPolicy({ publicKeyFiles: [join(work, 'k.pub.pem')] }))!;
  const out = join(tempDir(), 'pulled');
  const r = await pullPackage({ client: s3.client, registry: REGISTRY, name: pkg.name, version: '2.0.0', outDir: out, trust });
  expect(r.signature).toMatchObject({ name: 'tiny-mlp', version: '2.0.0', keyId: pair.keyId, files: 6 });
  expect(readFileSync(join(out, SIGNATURE_FILE))).toEqual(readFileSync(join(other.dir, SIGNATURE_FILE)));
});

test("a Lambda init from the registry with the trust policy refuses the forged package, even given the attacker's sha256", async () => {
  const handler = loadInferenceHandler(s3.endpoint, {
    MODEL_S3_BUCKET: BUCKET,
    MODEL_S3_KEY: packageKey(REGISTRY, pkg.name, pkg.version),
    MODEL_SHA256: attackedSha256,
    MODEL_NAME: pkg.name,
    MODEL_VERSION: pkg.version,
    MODEL_CACHE_DIR: tempDir('modelship-cache-'),
    MODEL_TRUST_PUBLIC_KEYS: publicKeyPem,
  });
  const event = restEvent({
    method: 'POST',
    path: `/v2/models/${pkg.name}/infer`,
    headers: { 'content-type': 'application/json' },
    body: readFileSync(join(pkg.dir, 'samples/0.request.json')),
  });
  const error = await handler(event, LAMBDA_CONTEXT).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  expect(error?.name).toBe('SignatureError');
  expect(error?.message).toMatch(/modelship\.json: digest check failed: sha256 [0-9a-f]{64}, but the signature says [0-9a-f]{64}/);
});
