/**
 * Where modelship's own files are, whether it runs from a source checkout (ts-jest, an esbuild-bundled
 * cdk app) or from an installed package (dist/). Construct code finds handlers here, never by a fixed
 * number of `..` from its own file.
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

/** The Lambda handlers modelship ships. */
export type HandlerName = 'inference' | 'pre-traffic' | 'jwt-authorizer';

/**
 * One of modelship's own entry points: `<dir>/<name>.ts` in a source checkout, `dist/<dir>/<name>.js`
 * (what tsc writes) in an installed package.
 * @throws Error naming both places when neither exists
 */
export function ownEntry(dir: string, name: string, what: string): string {
  const root = modelshipRoot();
  const candidates = [join(root, dir, `${name}.ts`), join(root, 'dist', dir, `${name}.js`)];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw new Error(`${what} is missing: looked for ${candidates.join(' and ')}`);
  return found;
}

/** lambda/<name>.ts in a source checkout, dist/lambda/<name>.js in an installed package. */
export function handlerEntry(name: HandlerName): string {
  return ownEntry('lambda', name, `the ${name} handler`);
}

/**
 * modelship's own lock file in a source checkout. In an installed package there is none, and
 * NodejsFunction falls back to the app's lock file, whose project root holds node_modules/modelship.
 */
export function ownLockFile(): string | undefined {
  const lock = join(modelshipRoot(), 'package-lock.json');
  return existsSync(lock) ? lock : undefined;
}
