/**
 * A model package on disk, checked when the app is synthesized: a package that would fail to load in
 * Lambda fails `cdk synth` instead, with the reason.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { sha256FileSync } from '../package/hash';
import { MANIFEST_FILE, type Manifest, readManifest } from '../package/manifest';

/**
 * A model package directory whose manifest matches the schema and whose model matches its sha256.
 * Immutable: the files it names are what a deployment ships.
 */
export class ModelPackage {
  /**
   * Reads and checks a package directory: the manifest against its schema, the model against the size
   * and sha256 the manifest records, and that every sample and labels file the manifest names exists.
   * @throws Error naming the file and what is wrong with it
   */
  static fromDirectory(path: string): ModelPackage {
    const directory = resolve(path);
    if (!existsSync(directory) || !statSync(directory).isDirectory()) {
      throw new Error(`ModelPackage.fromDirectory: ${directory} is not a directory`);
    }
    const manifest = readManifest(directory);
    const modelPath = resolve(directory, manifest.model.file);
    if (!existsSync(modelPath)) throw new Error(`${modelPath}: the model file the manifest names is missing`);
    const bytes = statSync(modelPath).size;
    if (bytes !== manifest.model.bytes) {
      throw new Error(`${modelPath} is ${bytes} bytes but ${MANIFEST_FILE} says ${manifest.model.bytes}: the model changed after packaging`);
    }
    const actual = sha256FileSync(modelPath);
    if (actual !== manifest.model.sha256) {
      throw new Error(`${modelPath} has sha256 ${actual} but ${MANIFEST_FILE} says ${manifest.model.sha256}: the model changed after packaging`);
    }
    const goldenFiles = [MANIFEST_FILE, ...manifest.samples.flatMap((s) => [s.request, s.response])];
    const files = [...new Set([...goldenFiles, manifest.model.file, ...(manifest.labels === undefined ? [] : [manifest.labels])])];
    for (const file of files) {
      const full = resolve(directory, file);
      if (!existsSync(full) || !statSync(full).isFile()) throw new Error(`${full}: a file the manifest names is missing`);
    }
    const totalBytes = files.reduce((sum, f) => sum + statSync(resolve(directory, f)).size, 0);
    return new ModelPackage(directory, manifest, files, [...new Set(goldenFiles)], totalBytes);
  }

  /** The model's name: DNS-safe, and the `{name}` of its v2 routes. */
  readonly name: string;
  /** The package's semantic version. */
  readonly version: string;
  /** sha256 of the model file, as the manifest records it and as checked. */
  readonly sha256: string;

  private constructor(
    /** Absolute path of the package directory. */
    readonly directory: string,
    /** The checked manifest. */
    readonly manifest: Manifest,
    /** Package-relative paths of every file the manifest names, the manifest first: what a deployment ships. */
    readonly files: readonly string[],
    /** The manifest and the golden sample files: what the canary's pre-traffic hook needs. */
    readonly goldenFiles: readonly string[],
    /** Total size of `files`, in bytes. */
    readonly totalBytes: number,
  ) {
    this.name = manifest.name;
    this.version = manifest.version;
    this.sha256 = manifest.model.sha256;
  }
}
