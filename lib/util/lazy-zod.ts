/**
 * zod, loaded on first use. The package schemas (lib/package/manifest.ts, preprocess.ts, labels.ts) are
 * built from it only when a file is checked, so a reader that need not check one, such as a Lambda INIT of
 * a package synth already checked, never loads zod nor builds a schema.
 */
import type { z } from 'zod';

export function zod(): typeof z {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy and synchronous: the parsers that use it are synchronous
  return (require('zod') as typeof import('zod')).z;
}
