/**
 * `list` over HTTP against the local S3 server, which checks every SigV4 signature, and why a plain SDK v3
 * ListObjectsV2 failed there: the SDK sends a path-style bucket request as `/bucket/?list-type=2` and
 * signs `/bucket/`, while s3rver rebuilds the canonical URI from the bucket name as `/bucket`.
 * withBucketPathWithoutSlash (lib/registry/s3.ts) sends `/bucket?list-type=2`, as the AWS CLI does.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { listRegistry, publishPackage } from '../../lib/registry';
import { withBucketPathWithoutSlash } from '../../lib/registry/s3';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { BUCKET, S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from './s3-server';

let s3: LocalS3;

beforeAll(async () => {
  s3 = await startLocalS3();
  const parent = tempDir('modelship-list-http-');
  const when = () => new Date('2026-05-01T12:00:00.000Z');
  for (const [name, version] of [
    ['alpha-mlp', '1.0.0'],
    ['alpha-mlp', '2.0.0'],
    ['beta-mlp', '0.3.0'],
  ]) {
    const pkg = await makeTinyMlpPackage(parent, { name, version });
    await publishPackage({ client: s3.client, registry: `s3://${BUCKET}/team/a.b_c-d`, dir: pkg.dir, now: when });
  }
  // A model under another prefix, which a list of team/a.b_c-d must not show.
  const other = await makeTinyMlpPackage(parent, { name: 'gamma-mlp', version: '1.0.0' });
  await publishPackage({ client: s3.client, registry: `s3://${BUCKET}/team/other`, dir: other.dir, now: when });
});

afterAll(() => s3.close());

function plainClient(secretAccessKey = S3RVER_CREDENTIALS.secretAccessKey): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { ...S3RVER_CREDENTIALS, secretAccessKey },
  });
}

describe('the cause', () => {
  test('GIVEN a plain SDK v3 client WHEN it lists with a prefix and delimiter THEN s3rver answers SignatureDoesNotMatch', async () => {
    const client = plainClient();
    const sentPaths: string[] = [];
    client.middlewareStack.add(
      (next) => (args) => {
        sentPaths.push((args.request as { path: string }).path);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordPath' },
    );

    const err = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'team/', Delimiter: '/' })).catch((e: unknown) => e);

    expect((err as Error).name).toBe('SignatureDoesNotMatch');
    expect(sentPaths[0]).toBe(`/${BUCKET}/`);
    client.destroy();
  });

  test('GIVEN the same client with withBucketPathWithoutSlash WHEN it lists THEN it gets the prefixes', async () => {
    const client = withBucketPathWithoutSlash(plainClient());

    const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'team/a.b_c-d/', Delimiter: '/' }));

    expect(out.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['team/a.b_c-d/alpha-mlp/', 'team/a.b_c-d/beta-mlp/']);
    client.destroy();
  });

  test('GIVEN a wrong secret key WHEN listing THEN SignatureDoesNotMatch: the server does check signatures', async () => {
    const client = withBucketPathWithoutSlash(plainClient('not-the-secret'));

    const err = await client.send(new ListObjectsV2Command({ Bucket: BUCKET })).catch((e: unknown) => e);

    expect((err as Error).name).toBe('SignatureDoesNotMatch');
    client.destroy();
  });

  test('GIVEN a key that ends with a slash WHEN put and read THEN its path keeps the slash and the signature matches', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'team/folder/', Body: 'marker' }));

    const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'team/folder/' }));

    expect(await out.Body!.transformToString()).toBe('marker');
  });
});

describe('listRegistry over HTTP', () => {
  test('GIVEN three versions of two models under a nested prefix WHEN the registry is listed THEN each model, its versions and latest, and nothing from other prefixes', async () => {
    const models = await listRegistry({ client: s3.client, registry: `s3://${BUCKET}/team/a.b_c-d` });

    expect(models.map((m) => [m.name, m.versions.map((v) => v.version), m.latest])).toEqual([
      ['alpha-mlp', ['1.0.0', '2.0.0'], '2.0.0'],
      ['beta-mlp', ['0.3.0'], '0.3.0'],
    ]);
  });

  test('GIVEN an empty prefix WHEN listed THEN no models', async () => {
    expect(await listRegistry({ client: s3.client, registry: `s3://${BUCKET}/nobody-here` })).toEqual([]);
  });
});
