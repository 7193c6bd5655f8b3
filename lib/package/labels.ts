/**
 * A package's class labels (labels.json): a JSON array of strings, one per class, in output order.
 * Read and checked once, by whatever loads the package; model metadata carries them to callers.
 */
import { join } from 'node:path';
import { schemaProblems } from '../util/schema-problems';
import { readJsonFile } from '../util/read-json-file';
import { PackageError } from './errors';
import type { Manifest } from './manifest';
import { zod } from '../util/lazy-zod';

let labelsSchema: ReturnType<typeof buildLabelsSchema> | undefined;
function buildLabelsSchema() {
  const z = zod();
  return z.array(z.string().max(1024)).min(1).max(100_000);
}

/** Checks parsed labels; `source` names the file in the error. */
export function parseLabels(value: unknown, source: string): string[] {
  const result = (labelsSchema ??= buildLabelsSchema()).safeParse(value);
  if (!result.success) {
    throw new PackageError(`${source} is not a JSON array of label strings: ${schemaProblems(result.error)}`);
  }
  return result.data;
}

/**
 * The labels of the package in `dir`, or undefined when its manifest names none. `checked`: the package was
 * checked when it was built into a deployment (see readCheckedManifest), so the file is parsed, not checked.
 */
export function readLabels(dir: string, manifest: Pick<Manifest, 'labels'>, checked = false): string[] | undefined {
  if (manifest.labels === undefined) return undefined;
  const path = join(dir, manifest.labels);
  const value = readJsonFile(path, (m) => new PackageError(m));
  return checked ? (value as string[]) : parseLabels(value, path);
}
