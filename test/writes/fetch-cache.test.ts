/**
 * fetchPackage's cacheDir (the Lambda init path) is written like any package: a failed replace keeps the
 * cached package whole, and an init killed in the middle of a replace leaves the old copy aside, which the
 * next init puts back and uses without a download.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fetchPackage, IntegrityError, publishPackage } from '../../lib/registry';
import { writeDeterministicTarGz } from '../../lib/triton/deterministic-tar-gz';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { BUCKET, s3Client, startLocalS3, type LocalS3 } from '../registry/s3-server';
import { deadPid, sameFiles, siblingsOf, snapshot } from './snapshot';

let s3: LocalS3;
let v1: { key: string; sha256: string };
let v2: { key: string; sha256: string };
let v2dir: string;

beforeAll(async () => {
  s3 = await startLocalS3();
  const parent = tempDir('modelship-fetch-cache-');
  const registry = `s3://${BUCKET}/fetch-cache`;
  const when = () => new Date('2026-05-01T12:00:00.000Z');
  v1 = await publishPackage({
    client: s3.client,
    registry,
    dir: (await makeTinyMlpPackage(parent, { version: '1.0.0', seed: 1 })).dir,
    now: when,
  });
  v2dir = (await makeTinyMlpPackage(parent, { version: '2.0.0', seed: 2 })).dir;
  v2 = await publishPackage({ client: s3.client, registry, dir: v2dir, now: when });
});

afterAll(() => s3.close());

test('GIVEN a cached package WHEN the replacement unpacks to a model that fails its manifest THEN IntegrityError and the cached package is byte-identical', async () => {
  const cacheDir = join(tempDir(), 'cache');
  await fetchPackage({ client: s3.client, bucket: BUCKET, key: v1.key, sha256: v1.sha256, cacheDir });
  const before = snapshot(cacheDir);
  // A tarball with the right sha256 (so the download passes) whose model is not the one its manifest names.
  const files = snapshot(v2dir)!;
  const model = Buffer.from(files.get('model.onnx')!);
  model[model.length >> 1] ^= 0xff;
  const tgz = join(tempDir(), 'bad.tgz');
  const { sha256 } = await writeDeterministicTarGz(
    [...files].map(([name, data]) => ({ name, data: name === 'model.onnx' ? model : data })),
    tgz,
  );
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'fetch-cache/bad/package.tgz', Body: readFileSync(tgz) }));

  await expect(fetchPackage({ client: s3.client, bucket: BUCKET, key: 'fetch-cache/bad/package.tgz', sha256, cacheDir })).rejects.toThrow(
    IntegrityError,
  );

  expect(sameFiles(snapshot(cacheDir), before)).toBe(true);
  expect(siblingsOf(cacheDir)).toEqual([]);
});

test('GIVEN a cached package WHEN replaced by another version THEN the new one, whole, and no sibling left', async () => {
  const cacheDir = join(tempDir(), 'cache');
  await fetchPackage({ client: s3.client, bucket: BUCKET, key: v1.key, sha256: v1.sha256, cacheDir });

  const fetched = await fetchPackage({ client: s3.client, bucket: BUCKET, key: v2.key, sha256: v2.sha256, cacheDir });

  expect(fetched.cached).toBe(false);
  expect(fetched.manifest.version).toBe('2.0.0');
  expect(siblingsOf(cacheDir)).toEqual([]);
});

test('GIVEN an init killed between the two renames of a replace WHEN the next init fetches the same sha256 THEN the old copy is back and used without S3', async () => {
  const cacheDir = join(tempDir(), 'cache');
  await fetchPackage({ client: s3.client, bucket: BUCKET, key: v1.key, sha256: v1.sha256, cacheDir });
  const before = snapshot(cacheDir);
  const aside = join(cacheDir, '..', `.cache.old-${await deadPid()}-0123456789ab`);
  mkdirSync(aside);
  renameSync(cacheDir, join(aside, 'cache'));

  // A client whose endpoint answers nothing: this init must not need S3 at all.
  const deadClient = s3Client('http://127.0.0.1:9');
  const fetched = await fetchPackage({ client: deadClient, bucket: BUCKET, key: v1.key, sha256: v1.sha256, cacheDir });
  deadClient.destroy();

  expect(fetched.cached).toBe(true);
  expect(sameFiles(snapshot(cacheDir), before)).toBe(true);
  expect(siblingsOf(cacheDir)).toEqual([]);
});
