/**
 * Which files make up a package: the manifest and the files it names. Publish puts exactly these in the
 * tarball, and a signature covers exactly these, so a stray file in the directory is in neither.
 */
import { MANIFEST_FILE, type Manifest } from './manifest';

/** The package-relative paths a manifest names, the manifest first and the rest in code-point order. */
export function packageFiles(manifest: Manifest): string[] {
  const rest = new Set<string>([manifest.model.file, ...manifest.samples.flatMap((s) => [s.request, s.response])]);
  if (manifest.labels !== undefined) rest.add(manifest.labels);
  for (const report of manifest.reports ?? []) rest.add(report);
  rest.delete(MANIFEST_FILE);
  return [MANIFEST_FILE, ...[...rest].sort()];
}

/**
 * A package's signature (`modelship sign`): beside the manifest, never named by it, since it signs the
 * manifest. Publish and pull carry it with the package's files.
 */
export const SIGNATURE_FILE = 'signature.json';

/**
 * Written into a package the registry installs (lib/registry/fetch.ts): where it came from, so a cache can
 * tell what it holds. Bookkeeping beside the package, not part of it: neither published nor signed.
 */
export const SOURCE_FILE = '.modelship-source.json';
