/**
 * esbuild bundling for modelship's Lambda handlers: always local, never Docker, never the network.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { type ILocalBundling } from 'aws-cdk-lib';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

let esbuildFound: boolean | undefined;

/** Whether `node_modules/<name>` is reachable from `from`, as Node's resolution would look for it. */
function reachable(name: string, from: string): boolean {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/**
 * NodejsFunction bundles locally only when it can load esbuild from where aws-cdk-lib is installed;
 * otherwise it quietly builds a Docker image. Checking first turns that into an error that says what to do.
 */
export function assertLocalEsbuild(): void {
  esbuildFound ??= reachable('esbuild', dirname(require.resolve('aws-cdk-lib/package.json')));
  if (!esbuildFound) {
    throw new Error(
      'esbuild is not installed next to aws-cdk-lib: modelship bundles its Lambda code locally with esbuild and never with Docker. Run `npm install esbuild`.',
    );
  }
}

/** POSIX shell single-quoting: the one quoting that needs no further escaping inside. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * One shell command that copies package-relative `files` from `sourceDir` into `destDir`, keeping
 * their sub-directories. Run by NodejsFunction after esbuild, in bash on the synth machine.
 */
export function copyFilesCommand(sourceDir: string, files: readonly string[], destDir: string): string {
  const dirs = [...new Set(files.map((f) => posix.dirname(f)))].map((d) => (d === '.' ? destDir : join(destDir, d)));
  const steps = [`mkdir -p ${dirs.map(shellQuote).join(' ')}`];
  for (const file of files) steps.push(`cp ${shellQuote(join(sourceDir, file))} ${shellQuote(join(destDir, file))}`);
  return steps.join(' && ');
}

export interface HandlerBundlingOptions {
  /** Modules left out of the bundle, to be found at run time (in a layer). */
  readonly externalModules: readonly string[];
  /** Package-relative files to copy next to the bundle, and the sub-directory of the asset they go to. */
  readonly copy?: { readonly sourceDir: string; readonly files: readonly string[]; readonly into: string };
}

/** BundlingOptions shared by every modelship handler. */
export function handlerBundling(options: HandlerBundlingOptions): nodejs.BundlingOptions {
  assertLocalEsbuild();
  const copy = options.copy;
  return {
    forceDockerBundling: false,
    minify: true,
    keepNames: true,
    sourceMap: false,
    format: nodejs.OutputFormat.CJS,
    externalModules: [...options.externalModules],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) =>
        copy === undefined ? [] : [copyFilesCommand(copy.sourceDir, copy.files, join(outputDir, copy.into))],
    },
  };
}

/** A file to place in a bundled asset. */
export interface AssetFile {
  /** Absolute path to copy from. */
  readonly source: string;
  /** Path inside the asset, with forward slashes. */
  readonly target: string;
  readonly bytes: number;
}

/**
 * Local bundling that copies a fixed list of files: how the onnxruntime layer is assembled without
 * Docker. Its fields are what the asset cache key sees, so the file list is part of the key.
 */
export class CopyFilesBundling implements ILocalBundling {
  constructor(private readonly files: readonly AssetFile[]) {}

  tryBundle(outputDir: string): boolean {
    for (const file of this.files) {
      const target = join(outputDir, ...file.target.split('/'));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file.source, target);
    }
    return true;
  }
}
