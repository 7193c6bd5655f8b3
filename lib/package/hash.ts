import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';

/** A sha256 as the manifest, the registry index and every caller write it: 64 lower-case hex digits. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** sha256 of a buffer, as lower-case hex. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file, streamed so that large models do not have to fit in memory twice. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Synchronous variant for synth time, where CDK constructs cannot await. */
export function sha256FileSync(path: string): string {
  return sha256(readFileSync(path));
}
