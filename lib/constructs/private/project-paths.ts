/**
 * Where modelship's own files are, whether it runs from a source checkout (ts-jest, an esbuild-bundled
 * cdk app) or from an installed package (dist/). Construct code finds handlers here, never by a fixed
 * number of `..` from its own file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelshipRoot } from '../../util/own-files';

export { modelshipRoot };

/** The Lambda handlers modelship ships. */
export type HandlerName = 'inference' | 'pre-traffic' | 'ecs-lifecycle-hook' | 'jwt-authorizer';

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
