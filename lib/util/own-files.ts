/**
 * Where modelship's own files are, whether it runs from a source checkout (ts-jest, an esbuild-bundled
 * cdk app) or from an installed package (dist/): found from the package.json, never by a fixed number of
 * `..` from the calling file, which differs between the two.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function isModelshipRoot(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'modelship';
}

let cachedRoot: string | undefined;

/**
 * The directory holding modelship's package.json: the outermost one above this file, below any
 * node_modules. Outermost, because the compiled tree (dist/) holds a copy of package.json too.
 */
export function modelshipRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let found: string | undefined;
  for (let dir = __dirname; basename(dir) !== 'node_modules'; dir = dirname(dir)) {
    if (isModelshipRoot(dir)) found = dir;
    if (dirname(dir) === dir) break;
  }
  if (found === undefined) throw new Error(`cannot find modelship's package.json above ${__dirname}`);
  return (cachedRoot = found);
}
