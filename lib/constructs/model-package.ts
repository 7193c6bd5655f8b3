/**
 * A model package to deploy: a directory on disk, checked when the app is synthesized (a package that
 * would fail to load in Lambda fails `cdk synth` instead, with the reason), or a published tarball in a
 * model registry, named by its sha256 and fetched and checked by the function itself at init.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Token } from 'aws-cdk-lib';
import { checkModelFileSync } from '../package/integrity';
import { readLabels } from '../package/labels';
import { packageFiles, SIGNATURE_FILE } from '../package/package-files';
import { MANIFEST_FILE, type Manifest, parseManifest, readManifest } from '../package/manifest';
import type { IModelRegistry } from './model-registry';
import { checkSha256 } from './private/registry-checks';

/** Options of {@link ModelPackage.fromRegistry}: what synth needs to know without downloading anything. */
export interface RegistryPackageOptions {
  /**
   * SHA-256 of the package tarball (64 lower-case hex digits), as `modelship publish` prints it and the
   * registry's `<name>/index.json` records it. The function refuses to load any other bytes.
   */
  readonly tarballSha256: string;
  /**
   * Size of the model file in bytes: it sizes the function's memory, timeout and /tmp storage.
   * @default - `manifest.model.bytes` when a manifest is given; otherwise unknown: the smallest defaults, and a synth warning
   */
  readonly modelBytes?: number;
  /**
   * The package's manifest (its modelship.json, e.g. from a `modelship pull`ed copy). Its name and version
   * must match; its target is checked, its model size sizes the function, and its golden samples size the
   * pre-traffic hook's timeout. {@link SageMakerModel} needs it: the API answers metadata from it, and
   * Triton's default model is named by it.
   * @default - none: the target is checked by the function at init; SageMakerModel refuses the package
   */
  readonly manifest?: Manifest;
}

/** Where a registry package lives: what a function needs to fetch and check it. */
export interface RegistryPackageSource {
  readonly registry: IModelRegistry;
  /** The tarball's key in the registry's bucket. */
  readonly key: string;
  /** The tarball's SHA-256. */
  readonly tarballSha256: string;
}

/** A package directory that passed every check of {@link ModelPackage.fromDirectory}. */
interface LocalPackage {
  readonly directory: string;
  readonly manifest: Manifest;
  readonly files: readonly string[];
  readonly goldenFiles: readonly string[];
  readonly totalBytes: number;
  readonly labels?: readonly string[];
}

/**
 * A model package: a checked directory, or a registry tarball named by its sha256. Immutable: the bytes it
 * names are what a deployment ships or loads.
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
    checkModelFileSync(directory, manifest.model);
    // A signature goes wherever the package's files go, so every place that loads them can check it.
    const signature = existsSync(resolve(directory, SIGNATURE_FILE)) ? [SIGNATURE_FILE] : [];
    const goldenFiles = [MANIFEST_FILE, ...signature, ...manifest.samples.flatMap((s) => [s.request, s.response])];
    const files = [...new Set([...packageFiles(manifest), ...signature])];
    for (const file of files) {
      const full = resolve(directory, file);
      if (!existsSync(full) || !statSync(full).isFile()) throw new Error(`${full}: a file the manifest names is missing`);
    }
    const totalBytes = files.reduce((sum, f) => sum + statSync(resolve(directory, f)).size, 0);
    const labels = readLabels(directory, manifest);
    const local: LocalPackage = { directory, manifest, files, goldenFiles: [...new Set(goldenFiles)], totalBytes, labels };
    return new ModelPackage(manifest.name, manifest.version, directory, local, manifest, undefined);
  }

  /**
   * A package published to a registry (`modelship publish`), deployed by reference: synth downloads
   * nothing, and the function fetches the tarball from S3 at init, checks it against `tarballSha256` and caches
   * it in /tmp. Its IAM grant covers that one object. Served by {@link LambdaModel}, and, for a gpu
   * package given its `manifest`, by {@link SageMakerModel} from the Triton artifact `modelship publish`
   * put next to the tarball (`<name>/<version>/sagemaker/model.tar.gz`, default Triton options).
   * @throws RangeError naming the bad name, version, sha256 or size
   */
  static fromRegistry(registry: IModelRegistry, name: string, version: string, options: RegistryPackageOptions): ModelPackage {
    // The registry checks the name and version, and makes the key.
    const key = registry.packageKey(name, version);
    checkSha256('fromRegistry: options.tarballSha256', options.tarballSha256);
    const manifest =
      options.manifest === undefined ? undefined : parseManifest(options.manifest, `the manifest given for ${name}@${version}`);
    if (manifest !== undefined && (manifest.name !== name || manifest.version !== version)) {
      throw new RangeError(`fromRegistry(${name}, ${version}): the manifest given is ${manifest.name}@${manifest.version}`);
    }
    const modelBytes = options.modelBytes;
    if (modelBytes !== undefined && !Token.isUnresolved(modelBytes) && (!Number.isInteger(modelBytes) || modelBytes < 1)) {
      throw new RangeError(`fromRegistry(${name}, ${version}): modelBytes must be a positive integer; got ${modelBytes}`);
    }
    if (manifest !== undefined && modelBytes !== undefined && manifest.model.bytes !== modelBytes) {
      throw new RangeError(`fromRegistry(${name}, ${version}): modelBytes is ${modelBytes} but the manifest says ${manifest.model.bytes}`);
    }
    const location = `${registry.registryUri}/${name}/${version}`;
    return new ModelPackage(name, version, location, undefined, manifest, {
      source: { registry, key, tarballSha256: options.tarballSha256 },
      modelBytes: modelBytes ?? manifest?.model.bytes,
    });
  }

  /** The model's name: DNS-safe, and the `{name}` of its v2 routes. */
  readonly name: string;
  /** The package's semantic version. */
  readonly version: string;
  /**
   * The model file's SHA-256 as the manifest records it: always known for a directory package (and
   * checked against the file), for a registry package only when it was given its manifest.
   */
  readonly modelSha256?: string;
  /** The package tarball's SHA-256, which a registry package is fetched and checked by; undefined for a directory package. */
  readonly tarballSha256?: string;
  /** The package directory, or the registry URI `s3://bucket/prefix/name/version`: for messages. */
  readonly location: string;
  /** Where a registry package is fetched from; undefined for a directory package. */
  readonly registrySource?: RegistryPackageSource;
  /** The model file's size in bytes, when known at synth. */
  readonly modelBytes?: number;

  private constructor(
    name: string,
    version: string,
    location: string,
    private readonly local: LocalPackage | undefined,
    private readonly knownManifest: Manifest | undefined,
    registry: { readonly source: RegistryPackageSource; readonly modelBytes?: number } | undefined,
  ) {
    this.name = name;
    this.version = version;
    this.modelSha256 = knownManifest?.model.sha256;
    this.tarballSha256 = registry?.source.tarballSha256;
    this.location = location;
    this.registrySource = registry?.source;
    this.modelBytes = registry === undefined ? knownManifest?.model.bytes : registry.modelBytes;
  }

  /**
   * The class labels of a directory package's labels.json, which its model metadata carries; undefined
   * when it has none, and for a registry package, whose labels.json is not read at synth.
   */
  get labels(): readonly string[] | undefined {
    return this.local?.labels;
  }

  /** The manifest when it is known at synth: always for a directory package, when given for a registry package. */
  tryGetManifest(): Manifest | undefined {
    return this.knownManifest;
  }

  /**
   * The checked manifest.
   * @throws Error for a registry package given no manifest: nothing is downloaded at synth
   */
  get manifest(): Manifest {
    if (this.knownManifest === undefined)
      throw this.notLocal('has no manifest at synth (pass `manifest` to fromRegistry, or use tryGetManifest())');
    return this.knownManifest;
  }

  /**
   * Absolute path of the package directory.
   * @throws Error for a registry package
   */
  get directory(): string {
    return this.localPackage('has no local directory').directory;
  }

  /**
   * Package-relative paths of every file the manifest names, the manifest first: what a deployment ships.
   * @throws Error for a registry package
   */
  get files(): readonly string[] {
    return this.localPackage('has no local files').files;
  }

  /**
   * The manifest and the golden sample files: what the canary's pre-traffic hook needs.
   * @throws Error for a registry package
   */
  get goldenFiles(): readonly string[] {
    return this.localPackage('has no local golden samples').goldenFiles;
  }

  /**
   * Total size of `files`, in bytes.
   * @throws Error for a registry package
   */
  get totalBytes(): number {
    return this.localPackage('has no local files').totalBytes;
  }

  private localPackage(what: string): LocalPackage {
    if (this.local === undefined) throw this.notLocal(what);
    return this.local;
  }

  private notLocal(what: string): Error {
    return new Error(
      `${this.name}@${this.version} from the registry (${this.location}, tarball sha256 ${this.tarballSha256}) ${what}: ` +
        'synth downloads nothing, so a registry package is served by LambdaModel, which fetches it at init, or by SageMakerModel, ' +
        'from the Triton artifact published next to it',
    );
  }
}
