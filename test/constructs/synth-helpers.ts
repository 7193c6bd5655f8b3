/**
 * Synthesis for construct tests: one App per test file with its own cloud assembly directory, so that
 * bundled assets (and aws-cdk-lib's bundling cache) are shared by every stack in the file and removed
 * afterwards. Docker is made unusable first: if any bundling fell back to it, synth would fail.
 */
import { createHash } from 'node:crypto';
import { closeSync, cpSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';

/** A docker command that cannot run: CDK_DOCKER points every Docker call of aws-cdk-lib at it. */
export const NO_DOCKER = '/nonexistent/modelship-tests-never-run-docker';

/** The feature flags `cdk synth` uses for this project (cdk.json), so tests synthesize what the CLI would. */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface TestApp {
  readonly app: App;
  readonly outdir: string;
  /** A new env-agnostic stack in the app. */
  stack(id: string): Stack;
  cleanup(): void;
}

export function testApp(): TestApp {
  process.env.CDK_DOCKER = NO_DOCKER;
  const outdir = mkdtempSync(join(tmpdir(), 'modelship-cdk-'));
  const app = new App({ outdir, context: projectContext() });
  return {
    app,
    outdir,
    stack: (id) => new Stack(app, id),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * A package whose model is `modelBytes` of zeros in a sparse file: as large as a test needs on paper,
 * almost nothing on disk. Its manifest (copied from `template`) records that size and sha256, so it
 * passes ModelPackage.fromDirectory; onnxruntime could never load it, which no synth needs.
 */
export function sparsePackage(template: string, modelBytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-sparse-'));
  cpSync(template, dir, { recursive: true });
  const fd = openSync(join(dir, 'model.onnx'), 'w');
  ftruncateSync(fd, modelBytes);
  closeSync(fd);
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let left = modelBytes; left > 0; left -= chunk.length) hash.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
  const manifestPath = join(dir, 'modelship.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  manifest.model = { ...manifest.model, bytes: modelBytes, sha256: hash.digest('hex') };
  writeFileSync(manifestPath, JSON.stringify(manifest));
  return dir;
}
