/**
 * P4 Lambda artifact size: function plus layer, unzipped, for one model package.
 *
 * When cdk.out holds a synthesized LambdaModel (a function asset dir with `model/modelship.json` for this
 * model, and a layer asset dir with `nodejs/node_modules/onnxruntime-node`), the figure is the bytes of those
 * two directories. Otherwise the same artifact is computed from its parts, as the constructs are meant to
 * build it:
 * - function: lambda/inference.ts bundled by esbuild (node20, cjs, minified, with LambdaModel's externals)
 *   plus the model package (manifest, model, samples, labels);
 * - layer: onnxruntime-node pruned to package.json, its dist/*.js and bin/napi-v* /linux/x64, plus its
 *   runtime dependency onnxruntime-common (package.json and dist/cjs/*.js, which is what `require` loads).
 *
 * Exported so that a test can assert the figure as well.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { INFERENCE_APART_MODULES, inferenceExternalModules } from '../lib/constructs/private/inference-bundle';
import { readManifest } from '../lib/package/manifest';

/** Target P4's ceiling (README.md, "Benchmarks") for function + layer, unzipped (60 MB, taken as 60 * 10^6 bytes: the stricter reading). */
export const LAMBDA_ARTIFACT_TARGET_BYTES = 60_000_000;
/** Target P4's ceiling for the inference handler's bundle alone (issue 12): 300 KB, as 300 * 10^3 bytes. */
export const HANDLER_BUNDLE_TARGET_BYTES = 300_000;

export interface ArtifactPart {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  readonly files: number;
}

export interface LambdaArtifactSize {
  /** 'cdk.out' when measured from synthesized assets; 'computed' when assembled from the parts here. */
  readonly source: 'cdk.out' | 'computed';
  readonly functionBytes: number;
  readonly layerBytes: number;
  readonly totalBytes: number;
  /** The inference handler's index.js. */
  readonly handlerBytes: number;
  readonly parts: readonly ArtifactPart[];
}

export interface LambdaArtifactOptions {
  /** The model package directory. */
  readonly packageDir: string;
  /** Repository root: where lambda/, node_modules/ and cdk.out/ are. @default process.cwd() */
  readonly root?: string;
  /** Look for synthesized assets in cdk.out first. @default true */
  readonly useCdkOut?: boolean;
}

/** Bytes and file count of a directory tree (regular files; symlinks counted by their target, as a zip would store them). */
export function treeSize(dir: string, accept: (rel: string) => boolean = () => true): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (accept(relative(dir, p))) {
        const st = entry.isSymbolicLink() ? statFollow(p) : lstatSync(p);
        if (st?.isFile()) {
          bytes += st.size;
          files++;
        }
      }
    }
  };
  walk(dir);
  return { bytes, files };
}

function statFollow(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function part(name: string, path: string, accept?: (rel: string) => boolean): ArtifactPart {
  const { bytes, files } = treeSize(path, accept);
  return { name, path, bytes, files };
}

/**
 * Synthesized LambdaModel assets in cdk.out for the package with this name and model sha256, if there are any.
 * An asset of the same name but another sha256 is stale (synthesized before the model changed) and is skipped.
 */
export function findCdkOutAssets(cdkOut: string, modelName: string, modelSha256?: string): { fn: string; layer: string } | undefined {
  if (!existsSync(cdkOut)) return undefined;
  const dirs: string[] = [];
  const collect = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (e.name.startsWith('asset.')) dirs.push(p);
      else if (depth < 2 && e.name.startsWith('assembly-')) collect(p, depth + 1);
    }
  };
  collect(cdkOut, 0);
  const fn = dirs.find((d) => {
    const manifest = join(d, 'model', 'modelship.json');
    if (!existsSync(manifest)) return false;
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; model?: { sha256?: string } };
      return m.name === modelName && (modelSha256 === undefined || m.model?.sha256 === modelSha256);
    } catch {
      return false;
    }
  });
  const layer = dirs.find((d) => existsSync(join(d, 'nodejs', 'node_modules', 'onnxruntime-node')));
  return fn && layer ? { fn, layer } : undefined;
}

/**
 * The esbuild bundle of `entry` (lambda/inference.ts when not given), as the LambdaModel construct is meant
 * to build it; a module name bundles that module alone, as it goes apart into the asset's node_modules.
 */
export async function bundledHandlerBytes(root: string, entry?: string): Promise<number> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry === undefined ? join(root, 'lambda', 'inference.ts') : require.resolve(entry, { paths: [root] })],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    // As LambdaModel bundles a function whose package is in its code, with no KMS trust policy.
    external: entry === undefined ? [...inferenceExternalModules({ registry: false, trustModules: [] }), ...INFERENCE_APART_MODULES] : [],
    write: false,
    outfile: join(root, 'cdk.out', 'bench-bundle', 'index.js'),
    logLevel: 'silent',
  });
  return result.outputFiles.reduce((n, f) => n + f.contents.byteLength, 0);
}

/** The package files the function ships: manifest, model, samples and labels (anything else in the dir is left out). */
function packagePart(packageDir: string): ArtifactPart {
  const manifest = readManifest(packageDir);
  const keep = new Set(['modelship.json', manifest.model.file, 'labels.json']);
  return part('model package', packageDir, (rel) => keep.has(rel) || rel.startsWith(`samples/`));
}

export async function lambdaArtifactSize(options: LambdaArtifactOptions): Promise<LambdaArtifactSize> {
  const root = resolve(options.root ?? process.cwd());
  const packageDir = resolve(options.packageDir);
  if (options.useCdkOut ?? true) {
    const manifest = readManifest(packageDir);
    const found = findCdkOutAssets(join(root, 'cdk.out'), manifest.name, manifest.model.sha256);
    if (found) {
      const fn = part('function asset (cdk.out)', found.fn);
      const layer = part('layer asset (cdk.out)', found.layer);
      return {
        source: 'cdk.out',
        functionBytes: fn.bytes,
        layerBytes: layer.bytes,
        totalBytes: fn.bytes + layer.bytes,
        handlerBytes: statSync(join(found.fn, 'index.js')).size,
        parts: [fn, layer],
      };
    }
  }
  const handler: ArtifactPart = {
    name: 'handler bundle (esbuild, minified)',
    path: 'lambda/inference.ts',
    bytes: await bundledHandlerBytes(root),
    files: 1,
  };
  const apartBytes = await Promise.all(INFERENCE_APART_MODULES.map((m) => bundledHandlerBytes(root, m)));
  const apart: ArtifactPart = {
    name: `modules bundled apart (${INFERENCE_APART_MODULES.join(', ')})`,
    path: 'node_modules/',
    bytes: apartBytes.reduce((a, b) => a + b, 0),
    files: apartBytes.length,
  };
  const pkg = packagePart(packageDir);
  const ortDir = join(root, 'node_modules', 'onnxruntime-node');
  const ort = part(
    'onnxruntime-node (js + linux/x64 binaries)',
    ortDir,
    (rel) => rel === 'package.json' || /^dist\/.*\.js$/.test(rel) || /^bin\/napi-v\d+\/linux\/x64\//.test(rel),
  );
  const commonDir = join(root, 'node_modules', 'onnxruntime-common');
  const common = part(
    'onnxruntime-common (cjs)',
    commonDir,
    (rel) => rel === 'package.json' || /^dist\/cjs\/.*\.js$/.test(rel) || rel === 'dist/cjs/package.json',
  );
  const functionBytes = handler.bytes + apart.bytes + pkg.bytes;
  const layerBytes = ort.bytes + common.bytes;
  return {
    source: 'computed',
    functionBytes,
    layerBytes,
    totalBytes: functionBytes + layerBytes,
    handlerBytes: handler.bytes,
    parts: [handler, apart, pkg, ort, common],
  };
}
