/**
 * The registry against a real S3-compatible server (s3rver on 127.0.0.1), through the real
 * @aws-sdk/client-s3 over HTTP: publish, list, pull, `latest`, refusing an overwrite, corrupted objects
 * detected on pull with nothing written, the deterministic tarball, fetchPackage (the Lambda init path),
 * and a multipart upload with progress.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../lib/package/manifest';
import { PackageError } from '../../lib/package/errors';
import { pack as tarPack } from 'tar-stream';
import { gzipSync } from 'node:zlib';
import {
  AlreadyPublishedError,
  buildPackageTarball,
  latestVersion,
  parsePackageRef,
  extractPackageTarball,
  fetchPackage,
  IntegrityError,
  listRegistry,
  packageKey,
  parseRegistryUri,
  publishPackage,
  pullPackage,
  RegistryError,
  sagemakerArtifactKey,
  SOURCE_FILE,
  type RegistryLocation,
} from '../../lib/registry';
import { buildSageMakerArtifact } from '../../lib/triton/sagemaker-artifact';
import { makeGpuPackage } from '../constructs/gpu-fixtures';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { makeBigPackage } from './big-package';
import { BUCKET, corruptOnDisk, s3Client, startLocalS3, type LocalS3 } from './s3-server';

const REGISTRY: RegistryLocation = { bucket: BUCKET, prefix: 'team/models' };
const TIME = new Date('2026-05-01T12:00:00.000Z');

let s3: LocalS3;
let work: string;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function getBytes(key: string): Promise<Buffer> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function publish(pkg: FixturePackage, extra: Partial<Parameters<typeof publishPackage>[0]> = {}) {
  return publishPackage({ client: s3.client, registry: REGISTRY, dir: pkg.dir, now: () => TIME, ...extra });
}

/** A fresh directory under the test's work directory. */
function sub(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

beforeAll(async () => {
  s3 = await startLocalS3();
  work = tempDir('modelship-registry-');
});

afterAll(() => s3.close());

describe('parseRegistryUri', () => {
  test('GIVEN s3 URIs with and without a prefix WHEN parsed THEN bucket and prefix (no trailing slash)', () => {
    expect(parseRegistryUri('s3://acme-models')).toEqual({ bucket: 'acme-models', prefix: '' });
    expect(parseRegistryUri('s3://acme-models/')).toEqual({ bucket: 'acme-models', prefix: '' });
    expect(parseRegistryUri('s3://acme-models/prod/cv/')).toEqual({ bucket: 'acme-models', prefix: 'prod/cv' });
  });

  test('GIVEN a non-S3 URI, a bad bucket or a prefix with ".." WHEN parsed THEN a RegistryError naming the problem', () => {
    expect(() => parseRegistryUri('https://acme-models')).toThrow(/is not an S3 URI/);
    expect(() => parseRegistryUri('s3://Acme_Models')).toThrow(/"Acme_Models" is not a valid S3 bucket name/);
    expect(() => parseRegistryUri('s3://acme-models/a/../b')).toThrow(/the prefix "a\/..\/b" may hold only/);
    expect(() => parseRegistryUri('s3://acme-models/a//b')).toThrow(RegistryError);
  });
});

describe('references and latest', () => {
  test('GIVEN NAME, NAME@latest and NAME@VERSION WHEN parsed THEN name and version; a bad name or version THEN RegistryError', () => {
    expect(parsePackageRef('tiny-mlp')).toEqual({ name: 'tiny-mlp', version: 'latest' });
    expect(parsePackageRef('tiny-mlp@latest')).toEqual({ name: 'tiny-mlp', version: 'latest' });
    expect(parsePackageRef('tiny-mlp@1.2.3-rc.1')).toEqual({ name: 'tiny-mlp', version: '1.2.3-rc.1' });
    expect(() => parsePackageRef('Tiny@1.0.0')).toThrow(
      '"Tiny@1.0.0": "Tiny" is not a model name (DNS-safe: lower-case letters, digits and hyphens)',
    );
    expect(() => parsePackageRef('tiny@1.0')).toThrow('"tiny@1.0": "1.0" is neither a semantic version nor "latest"');
  });

  test('GIVEN releases and pre-releases WHEN latest is resolved THEN the highest release, or the highest pre-release when there is no release', () => {
    expect(latestVersion(['1.2.0', '1.10.0', '1.9.9', '2.0.0-rc.1'])).toBe('1.10.0');
    expect(latestVersion(['2.0.0-rc.1', '2.0.0-rc.10', '2.0.0-rc.2'])).toBe('2.0.0-rc.10');
    expect(latestVersion([])).toBeUndefined();
  });
});

describe('extraction refuses hostile tarballs', () => {
  async function tgz(entries: Array<{ name: string; type?: 'file' | 'symlink'; linkname?: string; data?: string }>): Promise<string> {
    const p = tarPack();
    const chunks: Buffer[] = [];
    p.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    const ended = new Promise<void>((resolve) => p.on('end', () => resolve()));
    for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.data ?? '');
    p.finalize();
    await ended;
    const file = join(work, `hostile-${Math.random().toString(36).slice(2)}.tgz`);
    writeFileSync(file, gzipSync(Buffer.concat(chunks)));
    return file;
  }

  test.each<[string, Array<{ name: string; type?: 'file' | 'symlink'; linkname?: string }>, RegExp]>([
    ['a parent-directory path', [{ name: '../escaped.txt' }], /entry "\.\.\/escaped\.txt" is not a safe package-relative path/],
    ['an absolute path', [{ name: '/etc/passwd-copy' }], /entry "\/etc\/passwd-copy" is not a safe package-relative path/],
    [
      'a symlink',
      [{ name: 'model.onnx', type: 'symlink', linkname: '/etc/passwd' }],
      /entry "model\.onnx" is a symlink; a package holds only plain files/,
    ],
    ['a duplicate entry', [{ name: 'a.json' }, { name: 'a.json' }], /entry "a\.json" appears twice/],
  ])('GIVEN %s WHEN extracted THEN PackageError and nothing outside the destination', async (_what, entries, message) => {
    const dest = join(work, `hostile-dest-${Math.random().toString(36).slice(2)}`);
    await expect(extractPackageTarball(await tgz(entries), dest)).rejects.toThrow(message);
    expect(existsSync(join(work, 'escaped.txt'))).toBe(false);
  });
});

describe('publish, list, pull and latest', () => {
  let v100: FixturePackage;
  let v1100: FixturePackage;
  let v120: FixturePackage;

  beforeAll(async () => {
    v100 = await makeTinyMlpPackage(sub('a'), { version: '1.0.0', seed: 1 });
    v1100 = await makeTinyMlpPackage(sub('b'), { version: '1.10.0', seed: 2 });
    v120 = await makeTinyMlpPackage(sub('c'), { version: '1.2.0', seed: 3 });
  });

  test('GIVEN a package WHEN published THEN the tarball is at <prefix>/<name>/<version>/package.tgz with its sha256 in metadata, and the index lists it', async () => {
    const r = await publish(v100);

    expect(r.key).toBe('team/models/tiny-mlp/1.0.0/package.tgz');
    expect(r.uri).toBe(`s3://${BUCKET}/team/models/tiny-mlp/1.0.0/package.tgz`);
    expect(r.multipart).toBe(false);
    const stored = await getBytes(r.key);
    expect(stored.byteLength).toBe(r.size);
    expect(sha256(stored)).toBe(r.sha256);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: r.key }));
    expect(head.Metadata).toEqual({ sha256: r.sha256, 'model-sha256': readManifest(v100.dir).model.sha256 });
    const index = JSON.parse((await getBytes('team/models/tiny-mlp/index.json')).toString('utf8')) as unknown;
    expect(index).toEqual({
      format: 'modelship-registry-index/v1',
      name: 'tiny-mlp',
      versions: [
        {
          version: '1.0.0',
          sha256: r.sha256,
          size: r.size,
          modelSha256: readManifest(v100.dir).model.sha256,
          time: '2026-05-01T12:00:00.000Z',
        },
      ],
    });
  });

  test('GIVEN 1.0.0 is published WHEN a different package claims 1.0.0 THEN AlreadyPublishedError and the stored bytes are unchanged', async () => {
    const before = sha256(await getBytes(packageKey(REGISTRY, 'tiny-mlp', '1.0.0')));
    const impostor = await makeTinyMlpPackage(sub('impostor'), { version: '1.0.0', seed: 99 });

    const err = await publish(impostor).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AlreadyPublishedError);
    expect((err as Error).message).toBe(
      `tiny-mlp@1.0.0 is already published at s3://${BUCKET}/team/models/tiny-mlp/1.0.0/package.tgz (sha256 ${before}); published versions are immutable, so publish a new version`,
    );
    expect((err as AlreadyPublishedError).existingSha256).toBe(before);
    expect(sha256(await getBytes(packageKey(REGISTRY, 'tiny-mlp', '1.0.0')))).toBe(before);
  });

  test('GIVEN 1.0.0, 1.10.0 and 1.2.0 WHEN listed THEN versions come in semver order and latest is 1.10.0 (not 1.2.0)', async () => {
    await publish(v1100);
    await publish(v120);

    const [model] = await listRegistry({ client: s3.client, registry: REGISTRY, name: 'tiny-mlp' });

    expect(model.name).toBe('tiny-mlp');
    expect(model.versions.map((v) => v.version)).toEqual(['1.0.0', '1.2.0', '1.10.0']);
    expect(model.latest).toBe('1.10.0');
  });

  test('GIVEN two models WHEN the whole registry is listed THEN both, by name', async () => {
    await publish(await makeTinyMlpPackage(sub('other'), { name: 'another-mlp', version: '0.1.0' }));

    const models = await listRegistry({ client: s3.client, registry: REGISTRY });

    expect(models.map((m) => [m.name, m.versions.length, m.latest])).toEqual([
      ['another-mlp', 1, '0.1.0'],
      ['tiny-mlp', 3, '1.10.0'],
    ]);
  });

  test('GIVEN an unknown model WHEN listed by name THEN a RegistryError', async () => {
    await expect(listRegistry({ client: s3.client, registry: REGISTRY, name: 'no-such-model' })).rejects.toThrow(
      `s3://${BUCKET}/team/models has no versions of "no-such-model" (no no-such-model/index.json)`,
    );
  });

  test('GIVEN tiny-mlp@latest WHEN pulled THEN 1.10.0 lands in the out dir, byte for byte, and its 2 golden samples reproduce', async () => {
    const out = join(work, 'pulled-latest');

    const r = await pullPackage({ client: s3.client, registry: REGISTRY, name: 'tiny-mlp', version: 'latest', outDir: out });

    expect(r.version).toBe('1.10.0');
    expect(r.expectedFrom).toBe('index');
    expect(r.samplesChecked).toBe(2);
    const files = filesUnder(v1100.dir);
    expect(files).toEqual([
      'model.onnx',
      'modelship.json',
      'samples/0.request.json',
      'samples/0.response.json',
      'samples/1.request.json',
      'samples/1.response.json',
    ]);
    expect(filesUnder(out)).toEqual(files);
    for (const f of files) expect(readFileSync(join(out, f)).equals(readFileSync(join(v1100.dir, f)))).toBe(true);
    expect(readManifest(out).version).toBe('1.10.0');
  });

  test('GIVEN an exact version WHEN pulled THEN that version', async () => {
    const out = join(work, 'pulled-100');
    const r = await pullPackage({
      client: s3.client,
      registry: REGISTRY,
      name: 'tiny-mlp',
      version: '1.0.0',
      outDir: out,
      runSamples: false,
    });
    expect(r.version).toBe('1.0.0');
    expect(r.samplesChecked).toBe(0);
    expect(readManifest(out).model.sha256).toBe(readManifest(v100.dir).model.sha256);
  });

  test('GIVEN a version that was never published WHEN pulled THEN a RegistryError listing the versions, and no out dir', async () => {
    const out = join(work, 'pulled-missing');
    await expect(pullPackage({ client: s3.client, registry: REGISTRY, name: 'tiny-mlp', version: '3.0.0', outDir: out })).rejects.toThrow(
      `tiny-mlp@3.0.0 is not in s3://${BUCKET}/team/models (versions: 1.0.0, 1.2.0, 1.10.0)`,
    );
    expect(existsSync(out)).toBe(false);
  });

  test('GIVEN an out dir that already holds files WHEN pulled into THEN a RegistryError and the files are untouched', async () => {
    const out = join(work, 'occupied');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    await expect(pullPackage({ client: s3.client, registry: REGISTRY, name: 'tiny-mlp', version: '1.0.0', outDir: out })).rejects.toThrow(
      `${out} is not empty`,
    );
    expect(readdirSync(out)).toEqual(['keep.txt']);
  });
});

describe('corrupted objects are detected on pull, and nothing is written', () => {
  test('GIVEN the tarball was replaced through the S3 API (with another valid tarball) WHEN pulled THEN IntegrityError and the out dir stays empty', async () => {
    const reg: RegistryLocation = { bucket: BUCKET, prefix: 'corrupt-api' };
    const good = await publishPackage({
      client: s3.client,
      registry: reg,
      dir: (await makeTinyMlpPackage(sub('ca1'), { version: '1.0.0', seed: 5 })).dir,
    });
    const other = await publishPackage({
      client: s3.client,
      registry: reg,
      dir: (await makeTinyMlpPackage(sub('ca2'), { version: '2.0.0', seed: 6 })).dir,
    });
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: good.key, Body: await getBytes(other.key) }));
    const out = join(work, 'pull-corrupt-api');
    mkdirSync(out);

    const err = await pullPackage({ client: s3.client, registry: reg, name: 'tiny-mlp', version: '1.0.0', outDir: out }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toBe(
      `s3://${BUCKET}/corrupt-api/tiny-mlp/1.0.0/package.tgz has sha256 ${other.sha256} but ${good.sha256} was expected: the object is corrupted or has been tampered with; nothing was installed`,
    );
    expect(readdirSync(out)).toEqual([]);
    expect(readdirSync(work).filter((f) => f.startsWith('pull-corrupt-api.'))).toEqual([]);
  });

  test("GIVEN one byte of the tarball flipped on the server's disk WHEN pulled THEN IntegrityError and no out dir", async () => {
    const reg: RegistryLocation = { bucket: BUCKET, prefix: 'corrupt-disk' };
    const good = await publishPackage({
      client: s3.client,
      registry: reg,
      dir: (await makeTinyMlpPackage(sub('cd1'), { version: '1.0.0' })).dir,
    });
    corruptOnDisk(s3.objectFile(good.key));
    const out = join(work, 'pull-corrupt-disk');

    const err = await pullPackage({ client: s3.client, registry: reg, name: 'tiny-mlp', version: 'latest', outDir: out }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(new RegExp(`has sha256 [0-9a-f]{64} but ${good.sha256} was expected`));
    expect(existsSync(out)).toBe(false);
  });

  test('GIVEN a --sha256 that differs from the index WHEN pulled THEN IntegrityError before any download', async () => {
    const reg: RegistryLocation = { bucket: BUCKET, prefix: 'corrupt-disk' };
    const out = join(work, 'pull-wrong-sha');
    await expect(
      pullPackage({ client: s3.client, registry: reg, name: 'tiny-mlp', version: '1.0.0', outDir: out, sha256: 'a'.repeat(64) }),
    ).rejects.toThrow(/^the index records sha256 [0-9a-f]{64} for tiny-mlp@1.0.0, but a{64} was asked for; nothing was downloaded$/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the deterministic tarball', () => {
  test('GIVEN one package WHEN its tarball is built twice, and from a copy with other mtimes and a stray file THEN the bytes are identical', async () => {
    const pkg = await makeTinyMlpPackage(sub('det'));
    const copy = join(work, 'det-copy');
    cpSync(pkg.dir, copy, { recursive: true });
    writeFileSync(join(copy, '.DS_Store'), 'stray');
    utimesSync(join(copy, 'model.onnx'), new Date('2001-01-01'), new Date('2001-01-01'));

    const a = await buildPackageTarball(pkg.dir, join(work, 'det-a.tgz'));
    const b = await buildPackageTarball(pkg.dir, join(work, 'det-b.tgz'));
    const c = await buildPackageTarball(copy, join(work, 'det-c.tgz'));

    expect(readFileSync(a.file).equals(readFileSync(b.file))).toBe(true);
    expect(readFileSync(a.file).equals(readFileSync(c.file))).toBe(true);
    expect(a.sha256).toBe(sha256(readFileSync(a.file)));
    expect(a.entries).toEqual([
      'modelship.json',
      'model.onnx',
      'samples/0.request.json',
      'samples/0.response.json',
      'samples/1.request.json',
      'samples/1.response.json',
    ]);
  });

  test('GIVEN a tarball WHEN extracted THEN exactly its entries, in order, and the gzip header has mtime 0 and OS 255', async () => {
    const pkg = await makeTinyMlpPackage(sub('det2'));
    const t = await buildPackageTarball(pkg.dir, join(work, 'det2.tgz'));
    const bytes = readFileSync(t.file);
    expect([...bytes.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(bytes[9]).toBe(255);

    const names = await extractPackageTarball(t.file, join(work, 'det2-x'));

    expect(names).toEqual(t.entries);
  });

  test('GIVEN a package whose model was changed after packaging WHEN its tarball is built THEN PackageError and no file', async () => {
    const pkg = await makeTinyMlpPackage(sub('det3'));
    const model = readFileSync(join(pkg.dir, 'model.onnx'));
    model[model.length - 1] ^= 1;
    writeFileSync(join(pkg.dir, 'model.onnx'), model);
    await expect(buildPackageTarball(pkg.dir, join(work, 'det3.tgz'))).rejects.toThrow(PackageError);
    expect(existsSync(join(work, 'det3.tgz'))).toBe(false);
  });

  test('GIVEN a package that does not verify WHEN published THEN PackageError and nothing is uploaded', async () => {
    const pkg = await makeTinyMlpPackage(sub('bad'), { name: 'broken-mlp' });
    const model = readFileSync(join(pkg.dir, 'model.onnx'));
    model[model.length - 1] ^= 1;
    writeFileSync(join(pkg.dir, 'model.onnx'), model);

    await expect(publish(pkg)).rejects.toThrow(/does not verify, so it is not published/);
    await expect(
      s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: packageKey(REGISTRY, 'broken-mlp', '1.0.0') })),
    ).rejects.toMatchObject({ name: 'NotFound' });
  });
});

describe('fetchPackage: the Lambda init path', () => {
  const reg: RegistryLocation = { bucket: BUCKET, prefix: 'fetch' };
  let published: Awaited<ReturnType<typeof publishPackage>>;

  beforeAll(async () => {
    published = await publishPackage({ client: s3.client, registry: reg, dir: (await makeTinyMlpPackage(sub('f1'))).dir });
  });

  test('GIVEN the right sha256 WHEN fetched THEN the package is in cacheDir; fetched again THEN it comes from the cache without S3', async () => {
    const cacheDir = join(work, 'cache', 'tiny-mlp');

    const first = await fetchPackage({ client: s3.client, bucket: BUCKET, key: published.key, sha256: published.sha256, cacheDir });
    // A client whose endpoint answers nothing: the second fetch must not need S3 at all.
    const deadClient = s3Client('http://127.0.0.1:9');
    const second = await fetchPackage({ client: deadClient, bucket: BUCKET, key: published.key, sha256: published.sha256, cacheDir });
    deadClient.destroy();

    expect(first.cached).toBe(false);
    expect(first.manifest.model.sha256).toBe(published.modelSha256);
    expect(second.cached).toBe(true);
    expect(second.dir).toBe(first.dir);
    expect(readManifest(cacheDir).name).toBe('tiny-mlp');
    expect(JSON.parse(readFileSync(join(cacheDir, SOURCE_FILE), 'utf8'))).toMatchObject({
      bucket: BUCKET,
      key: published.key,
      sha256: published.sha256,
    });
  });

  test('GIVEN a wrong sha256 WHEN fetched THEN IntegrityError naming both hashes, and no cacheDir', async () => {
    const cacheDir = join(work, 'cache-wrong', 'tiny-mlp');
    const wrong = 'b'.repeat(64);

    await expect(fetchPackage({ client: s3.client, bucket: BUCKET, key: published.key, sha256: wrong, cacheDir })).rejects.toThrow(
      new IntegrityError(
        `s3://${BUCKET}/${published.key} has sha256 ${published.sha256} but ${wrong} was expected: the object is corrupted or has been tampered with; nothing was installed`,
      ),
    );
    expect(existsSync(cacheDir)).toBe(false);
  });

  test('GIVEN a cached package whose model was tampered with WHEN fetched THEN IntegrityError (never a silently wrong model)', async () => {
    const cacheDir = join(work, 'cache-tamper', 'tiny-mlp');
    await fetchPackage({ client: s3.client, bucket: BUCKET, key: published.key, sha256: published.sha256, cacheDir });
    const model = readFileSync(join(cacheDir, 'model.onnx'));
    model[10] ^= 0xff;
    writeFileSync(join(cacheDir, 'model.onnx'), model);

    await expect(
      fetchPackage({ client: s3.client, bucket: BUCKET, key: published.key, sha256: published.sha256, cacheDir }),
    ).rejects.toThrow(
      /model\.onnx has sha256 [0-9a-f]{64} but the manifest says [0-9a-f]{64}: the model has been tampered with or changed since it was packaged$/,
    );
  });

  test('GIVEN a malformed sha256 WHEN fetched THEN TypeError before any request', async () => {
    await expect(
      fetchPackage({ client: s3.client, bucket: BUCKET, key: published.key, sha256: 'ABC', cacheDir: join(work, 'x') }),
    ).rejects.toThrow(TypeError);
  });
});

describe('multipart upload', () => {
  test('GIVEN a 6 MB tarball and a 5 MiB part size WHEN published THEN it goes up in 2 parts with progress reported up to the total, and pulls back intact', async () => {
    const dir = await makeBigPackage(sub('big'));
    const reg: RegistryLocation = { bucket: BUCKET, prefix: 'multipart' };
    const progress: Array<{ loaded: number; total: number }> = [];

    const r = await publishPackage({
      client: s3.client,
      registry: reg,
      dir,
      multipartThresholdBytes: 5 * 1024 * 1024,
      partSizeBytes: 5 * 1024 * 1024,
      onProgress: (p) => progress.push(p),
    });

    expect(r.multipart).toBe(true);
    expect(r.size).toBeGreaterThan(5 * 1024 * 1024);
    expect(r.size).toBeLessThan(10 * 1024 * 1024);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every((p) => p.total === r.size)).toBe(true);
    expect(progress.map((p) => p.loaded)).toEqual([...progress.map((p) => p.loaded)].sort((a, b) => a - b));
    expect(progress[progress.length - 1].loaded).toBe(r.size);
    expect(sha256(await getBytes(r.key))).toBe(r.sha256);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: r.key }));
    expect(head.Metadata?.sha256).toBe(r.sha256);

    const out = join(work, 'big-pulled');
    const pulled = await pullPackage({
      client: s3.client,
      registry: reg,
      name: 'big-mlp',
      version: 'latest',
      outDir: out,
      runSamples: false,
    });
    expect(pulled.sha256).toBe(r.sha256);
    expect(readFileSync(join(out, 'model.onnx')).equals(readFileSync(join(dir, 'model.onnx')))).toBe(true);
  });

  test('GIVEN a part size under 5 MiB WHEN published THEN RangeError', async () => {
    await expect(publishPackage({ client: s3.client, registry: REGISTRY, dir: work, partSizeBytes: 1024 })).rejects.toThrow(
      "partSizeBytes must be an integer of at least 5242880 (S3's minimum part size), got 1024",
    );
  });
});

describe('gpu packages: the SageMaker Triton artifact', () => {
  const GPU_REGISTRY: RegistryLocation = { bucket: BUCKET, prefix: 'gpu' };
  const publishGpu = (dir: string) => publishPackage({ client: s3.client, registry: GPU_REGISTRY, dir, now: () => TIME });

  test('GIVEN a gpu package WHEN published THEN package.tgz and sagemaker/model.tar.gz are both uploaded, with checksums, and the index records sagemakerSha256', async () => {
    // GIVEN
    const dir = await makeGpuPackage({ name: 'gpu-one' });
    const expected = await buildSageMakerArtifact(dir, join(sub('gpu-expected'), 'model.tar.gz'));

    // WHEN
    const r = await publishGpu(dir);

    // THEN the tarball, as for any package
    expect(r.key).toBe('gpu/gpu-one/1.0.0/package.tgz');
    expect(sha256(await getBytes(r.key))).toBe(r.sha256);
    // AND the Triton artifact with default options, byte for byte, next to it
    expect(r.sagemakerKey).toBe('gpu/gpu-one/1.0.0/sagemaker/model.tar.gz');
    expect(sagemakerArtifactKey(GPU_REGISTRY, 'gpu-one', '1.0.0')).toBe(r.sagemakerKey);
    const artifact = await getBytes(r.sagemakerKey!);
    expect(artifact.equals(readFileSync(expected.file))).toBe(true);
    expect(r.sagemakerSha256).toBe(expected.sha256);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: r.sagemakerKey, ChecksumMode: 'ENABLED' }));
    expect(head.Metadata).toEqual({ sha256: expected.sha256, 'model-sha256': readManifest(dir).model.sha256 });
    expect(head.ContentLength).toBe(expected.bytes);
    // AND the index entry carries the artifact's sha256
    const index = JSON.parse((await getBytes('gpu/gpu-one/index.json')).toString('utf8')) as { versions: unknown };
    expect(index.versions).toEqual([
      {
        version: '1.0.0',
        sha256: r.sha256,
        size: r.size,
        modelSha256: readManifest(dir).model.sha256,
        time: '2026-05-01T12:00:00.000Z',
        sagemakerSha256: expected.sha256,
      },
    ]);
    // AND list and pull still read the index
    expect((await listRegistry({ client: s3.client, registry: GPU_REGISTRY, name: 'gpu-one' }))[0].versions[0]).toMatchObject({
      sagemakerSha256: expected.sha256,
    });
  });

  test('GIVEN a cpu package WHEN published THEN no SageMaker artifact and no sagemakerSha256', async () => {
    const cpu = await makeTinyMlpPackage(sub('cpu-only'), { version: '3.0.0', seed: 7 });
    const r = await publishPackage({ client: s3.client, registry: GPU_REGISTRY, dir: cpu.dir, now: () => TIME });
    expect(r.sagemakerKey).toBeUndefined();
    expect(r.sagemakerSha256).toBeUndefined();
    const err = await s3.client
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: sagemakerArtifactKey(GPU_REGISTRY, 'tiny-mlp', '3.0.0') }))
      .catch((e: unknown) => e);
    expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(404);
  });

  test('GIVEN other bytes already at the artifact key WHEN published THEN AlreadyPublishedError, the bytes are unchanged, and no package.tgz', async () => {
    // GIVEN
    const dir = await makeGpuPackage({ name: 'gpu-two' });
    const key = sagemakerArtifactKey(GPU_REGISTRY, 'gpu-two', '1.0.0');
    const squatter = Buffer.from('not a triton artifact');
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: squatter, Metadata: { sha256: sha256(squatter) } }));

    // WHEN
    const err = await publishGpu(dir).catch((e: unknown) => e);

    // THEN
    expect(err).toBeInstanceOf(AlreadyPublishedError);
    expect((err as Error).message).toMatch(
      /gpu-two@1\.0\.0 is already published at s3:\/\/[^ ]+\/gpu\/gpu-two\/1\.0\.0\/sagemaker\/model\.tar\.gz/,
    );
    expect((await getBytes(key)).equals(squatter)).toBe(true);
    const head = await s3.client
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: packageKey(GPU_REGISTRY, 'gpu-two', '1.0.0') }))
      .catch((e: unknown) => e);
    expect((head as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(404);
  });

  test('GIVEN the same artifact left by an interrupted publish WHEN published again THEN it is kept and the version completes', async () => {
    // GIVEN: the artifact went up, then the publish stopped before package.tgz
    const dir = await makeGpuPackage({ name: 'gpu-three' });
    const built = await buildSageMakerArtifact(dir, join(sub('gpu-three'), 'model.tar.gz'));
    const key = sagemakerArtifactKey(GPU_REGISTRY, 'gpu-three', '1.0.0');
    await s3.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(built.file), Metadata: { sha256: built.sha256 } }),
    );

    // WHEN
    const r = await publishGpu(dir);

    // THEN
    expect(r.sagemakerSha256).toBe(built.sha256);
    expect(sha256(await getBytes(key))).toBe(built.sha256);
    expect(sha256(await getBytes(r.key))).toBe(r.sha256);
  });
});
