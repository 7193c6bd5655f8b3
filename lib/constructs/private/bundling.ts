/**
 * esbuild bundling for modelship's Lambda handlers: always local, never Docker, never the network.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { type ILocalBundling } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { modelshipRoot } from '../../util/own-files';
import { MODELSHIP_RUNTIME } from './runtime';

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
  /**
   * Modules left out of the bundle and bundled apart, each into the asset's `node_modules/<name>/index.js`,
   * with the same esbuild options: what the handler requires only on some paths.
   */
  readonly apart?: readonly string[];
  /** Package-relative files to copy next to the bundle, and the sub-directory of the asset they go to. */
  readonly copy?: { readonly sourceDir: string; readonly files: readonly string[]; readonly into: string };
}

/** The esbuild that NodejsFunction runs, found where NodejsFunction finds it: its native binary, or a shim that starts it. */
function esbuildCommand(): string {
  return shellQuote(require.resolve('esbuild/bin/esbuild', { paths: [dirname(require.resolve('aws-cdk-lib/package.json'))] }));
}

/**
 * One shell command that bundles module `name`, resolved from modelship's own dependencies, into
 * `<outputDir>/node_modules/<name>/index.js` with the handler's options: CommonJS, minified, names kept.
 */
export function apartModuleCommand(name: string, outputDir: string, target: string): string {
  const entry = require.resolve(name, { paths: [modelshipRoot()] });
  const outfile = join(outputDir, 'node_modules', name, 'index.js');
  const flags = ['--bundle', '--platform=node', `--target=${target}`, '--format=cjs', '--minify', '--keep-names', '--log-level=warning'];
  return `${esbuildCommand()} ${shellQuote(entry)} ${flags.join(' ')} ${shellQuote(`--outfile=${outfile}`)}`;
}

/** BundlingOptions shared by every modelship handler. */
export function handlerBundling(options: HandlerBundlingOptions): nodejs.BundlingOptions {
  assertLocalEsbuild();
  const copy = options.copy;
  const apart = options.apart ?? [];
  const target = esbuildTarget(MODELSHIP_RUNTIME);
  return {
    forceDockerBundling: false,
    minify: true,
    keepNames: true,
    sourceMap: false,
    format: nodejs.OutputFormat.CJS,
    target,
    externalModules: [...options.externalModules, ...apart],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [
        ...apart.map((name) => apartModuleCommand(name, outputDir, target)),
        ...(copy === undefined ? [] : [copyFilesCommand(copy.sourceDir, copy.files, join(outputDir, copy.into))]),
      ],
    },
  };
}

/** esbuild's target for a Lambda Node.js runtime, as NodejsFunction derives it: nodejs24.x -> node24. */
function esbuildTarget(runtime: lambda.Runtime): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  if (major === undefined) throw new Error(`${runtime.name} is not a Node.js runtime`);
  return `node${major}`;
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
