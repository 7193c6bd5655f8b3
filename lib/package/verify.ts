/**
 * `modelship verify`: checks a package the way a deployment would trust it: the manifest against its
 * schema, the model against its sha256, and every golden sample against a fresh run of the engine.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InferenceEngine } from '../engine/engine';
import { recoverInterruptedWrite } from '../util/atomic-dir';
import { parseJson } from '../protocol/json';
import { answerSample } from './answer-sample';
import { PackageError } from './errors';
import { type GoldenResponse, compareOutputs } from './golden';
import { readManifest, type Manifest } from './manifest';

export interface VerifyReport {
  readonly ok: boolean;
  /** The manifest, when it could be read. */
  readonly manifest?: Manifest;
  /** One line per problem, each naming the file (and sample, output and element) at fault. */
  readonly problems: readonly string[];
  readonly samplesChecked: number;
}

export async function verifyPackage(dir: string): Promise<VerifyReport> {
  let manifest: Manifest;
  let engine: InferenceEngine;
  try {
    // A --force replace cut by a crash leaves the old package aside and none in place; put it back first.
    await recoverInterruptedWrite(dir);
    manifest = readManifest(dir);
    engine = await InferenceEngine.load(dir);
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], samplesChecked: 0 };
  }
  // The engine has read and checked labels.json, as it has the model.
  const problems: string[] = [];
  for (const report of manifest.reports ?? []) {
    if (!(await stat(join(dir, report)).catch(() => undefined)))
      problems.push(`${join(dir, report)}: a report the manifest lists is missing`);
  }
  let checked = 0;
  try {
    for (const sample of manifest.samples) {
      const path = join(dir, sample.request);
      try {
        const request = await readFile(path);
        const expected = parseJson(await readFile(join(dir, sample.response), 'utf8'), sample.response) as GoldenResponse;
        const actual = (await answerSample(engine, request)).outputs;
        problems.push(...compareOutputs(expected.outputs, actual, sample.tolerance).map((p) => `${path}: ${p}`));
      } catch (err) {
        problems.push(`${path}: ${(err as Error).message}`);
      }
      checked++;
    }
  } finally {
    await engine.release();
  }
  return { ok: problems.length === 0, manifest, problems, samplesChecked: checked };
}

/**
 * Verifies `dir` and returns its manifest, or throws a PackageError that lists every problem:
 * "`what` does not verify, so `consequence`". For the commands that only start from a sound package.
 */
export async function requireVerified(dir: string, what: string, consequence: string): Promise<Manifest> {
  const report = await verifyPackage(dir);
  if (!report.ok || report.manifest === undefined) {
    throw new PackageError(`${what} does not verify, so ${consequence}:\n  - ${report.problems.join('\n  - ')}`);
  }
  return report.manifest;
}
