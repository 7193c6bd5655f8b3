import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';

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
