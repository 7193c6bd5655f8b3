/**
 * Loads package directories for a server. A package that fails its checks is refused on its own:
 * the others still load, and the refused one's routes answer 503 with the reason.
 */
import { basename, resolve, sep } from 'node:path';
import type { EngineOptions, InferenceEngine } from '../engine/engine';
import { loadWarmEngine } from '../engine/warm-up';
import { readManifest } from '../package/manifest';
import type { LoadFailure } from '../router/router';
import type { TrustPolicy } from '../trust/trust-policy';

export interface LoadedPackages {
  readonly engines: InferenceEngine[];
  readonly failures: LoadFailure[];
}

/**
 * With `trust`, a package is loaded only once its signature verifies (lib/trust/verify-signature.ts); every
 * package is warmed up, and refused when its first golden sample no longer matches (lib/engine/warm-up.ts).
 */
export async function loadPackages(dirs: readonly string[], options: EngineOptions = {}, trust?: TrustPolicy): Promise<LoadedPackages> {
  const engines: InferenceEngine[] = [];
  const failures: LoadFailure[] = [];
  for (const dir of dirs) {
    try {
      if (trust !== undefined) {
        // Loaded only with a policy: serve without one starts without the trust code.
        const { verifyPackageSignature } = await import('../trust/verify-signature');
        // loadWarmEngine hashes the model as it loads it, against the manifest the signature covers.
        await verifyPackageSignature(dir, trust, { modelHashedByLoader: true });
      }
      engines.push((await loadWarmEngine(dir, options)).engine);
    } catch (err) {
      let name = basename(dir);
      let version: string | undefined;
      try {
        ({ name, version } = readManifest(dir));
      } catch {
        // The manifest itself is the problem; the directory name is the best name left.
      }
      // The reason goes to callers of the refused model's routes: name files inside the package, not server paths.
      const reason = (err as Error).message
        .split(resolve(dir) + sep)
        .join('')
        .split(dir.replace(/\/+$/, '') + sep)
        .join('');
      failures.push({ name, version, reason });
    }
  }
  return { engines, failures };
}
