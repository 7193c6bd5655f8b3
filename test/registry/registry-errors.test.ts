/**
 * Registry error paths that a local S3 server cannot produce, through aws-sdk-client-mock: losing the
 * conditional-put race (412), S3 refusing a checksum (BadDigest), access denied, and an index update
 * that loses a race and retries. Everything else about the registry runs against a real server
 * (registry.test.ts).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
  NotFound,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyPublishedError, fetchPackage, publishPackage, pullPackage, RegistryError } from '../../lib/registry';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { makeBigPackage } from './big-package';

/** What these tests read of an index.json body. */
interface RegistryIndex {
  readonly versions: ReadonlyArray<{ readonly version: string }>;
}

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const REGISTRY = 's3://acme-models/prod';
const KEY = 'prod/tiny-mlp/1.0.0/package.tgz';
const INDEX_KEY = 'prod/tiny-mlp/index.json';

let pkg: FixturePackage;

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
}

function notFound(): NotFound {
  return new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'NotFound' });
}

/** The part of an SDK stream body the index reader uses. */
function body(text: string): never {
  return { transformToString: () => Promise.resolve(text) } as never;
}

function putsTo(key: string) {
  return s3.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key === key);
}

beforeAll(async () => {
  pkg = await makeTinyMlpPackage(tempDir('modelship-registry-mock-'));
});

beforeEach(() => {
  s3.reset();
});

describe('publish', () => {
  test('GIVEN a new version WHEN published THEN the put carries the SHA-256 checksum, If-None-Match: * and the sha256 metadata', async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' }));
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });

    const r = await publishPackage({ client, registry: REGISTRY, dir: pkg.dir });

    const [put] = putsTo(KEY);
    const input = put.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'acme-models',
      ContentType: 'application/gzip',
      ChecksumAlgorithm: 'SHA256',
      IfNoneMatch: '*',
      ContentLength: r.size,
      ChecksumSHA256: Buffer.from(r.sha256, 'hex').toString('base64'),
      Metadata: { sha256: r.sha256, 'model-sha256': r.modelSha256 },
    });
    const [indexPut] = putsTo(INDEX_KEY);
    expect(indexPut.args[0].input.IfNoneMatch).toBe('*');
    expect(
      (JSON.parse(indexPut.args[0].input.Body as string) as RegistryIndex).versions.map((v: { version: string }) => v.version),
    ).toEqual(['1.0.0']);
  });

  test('GIVEN another publisher wins the race after HeadObject WHEN the conditional put gets 412 THEN AlreadyPublishedError and the index is not touched', async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(PutObjectCommand, { Key: KEY }).rejects(
      s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold'),
    );

    const err = await publishPackage({ client, registry: REGISTRY, dir: pkg.dir }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AlreadyPublishedError);
    expect((err as Error).message).toBe(
      `tiny-mlp@1.0.0 was published at s3://acme-models/${KEY} by someone else while this upload ran; published versions are immutable, so publish a new version`,
    );
    expect(putsTo(INDEX_KEY)).toHaveLength(0);
  });

  test('GIVEN S3 computes a different SHA-256 over the bytes it got WHEN published THEN a RegistryError saying nothing was stored', async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(PutObjectCommand, { Key: KEY }).rejects(
      s3Error('BadDigest', 400, 'The SHA256 you specified did not match the calculated checksum.'),
    );

    const err = await publishPackage({ client, registry: REGISTRY, dir: pkg.dir }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^S3 refused the upload of s3://acme-models/${KEY}: the bytes it received do not match the SHA-256 checksum of the tarball \\([0-9a-f]{64}\\); they changed on the way and nothing was stored, so try again$`,
      ),
    );
    expect(putsTo(INDEX_KEY)).toHaveLength(0);
  });

  test('GIVEN credentials without access WHEN published THEN a RegistryError naming the object and the permission, and no upload', async () => {
    s3.on(HeadObjectCommand).rejects(s3Error('Forbidden', 403, 'Forbidden'));

    await expect(publishPackage({ client, registry: REGISTRY, dir: pkg.dir })).rejects.toThrow(
      `access denied checking whether s3://acme-models/${KEY} exists (publishing needs s3:GetObject, s3:ListBucket and s3:PutObject there): Forbidden (403)`,
    );
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('GIVEN the put itself is denied WHEN published THEN a RegistryError naming s3:PutObject', async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403, 'Access Denied'));

    await expect(publishPackage({ client, registry: REGISTRY, dir: pkg.dir })).rejects.toThrow(
      `access denied writing s3://acme-models/${KEY} with the current AWS credentials (publishing needs s3:PutObject there): AccessDenied (403): Access Denied`,
    );
  });

  test('GIVEN another publisher updates the index in between WHEN the If-Match index put gets 412 THEN the index is reread and both versions are kept', async () => {
    const theirs = { version: '0.9.0', sha256: 'c'.repeat(64), size: 10, modelSha256: 'd'.repeat(64), time: '2026-01-01T00:00:00.000Z' };
    const index = (versions: object[]) => JSON.stringify({ format: 'modelship-registry-index/v1', name: 'tiny-mlp', versions });
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(PutObjectCommand, { Key: KEY }).resolves({});
    s3.on(GetObjectCommand, { Key: INDEX_KEY })
      .resolvesOnce({ Body: body(index([])), ETag: '"v1"' })
      .resolves({ Body: body(index([theirs])), ETag: '"v2"' });
    s3.on(PutObjectCommand, { Key: INDEX_KEY, IfMatch: '"v1"' }).rejects(s3Error('PreconditionFailed', 412, 'changed'));
    s3.on(PutObjectCommand, { Key: INDEX_KEY, IfMatch: '"v2"' }).resolves({});

    await publishPackage({ client, registry: REGISTRY, dir: pkg.dir });

    const puts = putsTo(INDEX_KEY);
    expect(puts.map((p) => p.args[0].input.IfMatch)).toEqual(['"v1"', '"v2"']);
    expect((JSON.parse(puts[1].args[0].input.Body as string) as RegistryIndex).versions.map((v: { version: string }) => v.version)).toEqual(
      ['0.9.0', '1.0.0'],
    );
  });
});

describe('multipart publish', () => {
  test('GIVEN another publisher completes first WHEN CompleteMultipartUpload (If-None-Match: *) gets 412 THEN AlreadyPublishedError, the upload is aborted and the index untouched', async () => {
    const dir = await makeBigPackage(tempDir('modelship-registry-big-'));
    const key = 'prod/big-mlp/1.0.0/package.tgz';
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u-1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"p${input.PartNumber}"` }));
    s3.on(CompleteMultipartUploadCommand).rejects(
      s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold'),
    );
    s3.on(AbortMultipartUploadCommand).resolves({});

    const err = await publishPackage({
      client,
      registry: REGISTRY,
      dir,
      multipartThresholdBytes: 5 * 1024 * 1024,
      partSizeBytes: 5 * 1024 * 1024,
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AlreadyPublishedError);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({
      Key: key,
      ChecksumAlgorithm: 'SHA256',
      Metadata: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown },
    });
    expect(s3.commandCalls(UploadPartCommand).map((c) => [c.args[0].input.PartNumber, c.args[0].input.ChecksumAlgorithm])).toEqual([
      [1, 'SHA256'],
      [2, 'SHA256'],
    ]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input).toMatchObject({ Key: key, UploadId: 'u-1', IfNoneMatch: '*' });
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'acme-models', Key: key, UploadId: 'u-1' },
    ]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('pull and fetch', () => {
  test('GIVEN reading the tarball is denied WHEN fetched THEN a RegistryError naming the object, and no cacheDir', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('AccessDenied', 403, 'Access Denied'));
    const cacheDir = join(tempDir(), 'cache');

    await expect(fetchPackage({ client, bucket: 'acme-models', key: KEY, sha256: 'a'.repeat(64), cacheDir })).rejects.toThrow(
      `access denied reading s3://acme-models/${KEY} with the current AWS credentials: AccessDenied (403): Access Denied`,
    );
    expect(existsSync(cacheDir)).toBe(false);
  });

  test('GIVEN an index that is not valid WHEN pulled THEN a RegistryError naming the index and the field', async () => {
    s3.on(GetObjectCommand, { Key: INDEX_KEY }).resolves({
      Body: body('{"format":"modelship-registry-index/v1","name":"tiny-mlp","versions":[{"version":"1.0.0"}]}'),
    });

    await expect(
      pullPackage({ client, registry: REGISTRY, name: 'tiny-mlp', version: 'latest', outDir: join(tempDir(), 'out') }),
    ).rejects.toThrow(/^s3:\/\/acme-models\/prod\/tiny-mlp\/index\.json is not a registry index: versions\.0\.sha256: /);
  });
});
