/**
 * A real S3-compatible server for registry tests: @20minutes/s3rver (the maintained fork of s3rver) on
 * 127.0.0.1 and a free port, storing objects in a temporary directory, with one bucket made up front.
 * Tests talk to it with the real @aws-sdk/client-s3 over HTTP.
 *
 * The server checks every SigV4 signature (mismatches are not allowed), so a request the SDK signs in a
 * way S3 would refuse fails here too. ListObjectsV2 passes because the client, like the CLI's, goes
 * through withBucketPathWithoutSlash (lib/registry/s3.ts explains why s3rver needs it). s3rver ignores
 * If-None-Match on PUT and does not verify x-amz-checksum-sha256: those paths are covered with
 * aws-sdk-client-mock (registry-errors.test.ts).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { withBucketPathWithoutSlash } from '../../lib/registry/s3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { tempDir } from '../helpers/fixtures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('@20minutes/s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
};

export const BUCKET = 'models';
/** s3rver's built-in account. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  readonly endpoint: string;
  readonly client: S3Client;
  /** Where s3rver keeps objects on disk. */
  readonly directory: string;
  /** The file that holds an object's bytes, for corrupting it behind S3's back. */
  objectFile(key: string, bucket?: string): string;
  close(): Promise<void>;
}

export function s3Client(endpoint: string): S3Client {
  return withBucketPathWithoutSlash(new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS }));
}

export async function startLocalS3(): Promise<LocalS3> {
  const directory = tempDir('modelship-s3-');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = s3Client(endpoint);
  return {
    endpoint,
    client,
    directory,
    objectFile: (key, bucket = BUCKET) => join(directory, bucket, `${key}._S3rver_object`),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/** Flips one byte in the middle of a stored object, on the server's disk. */
export function corruptOnDisk(file: string): void {
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
}
