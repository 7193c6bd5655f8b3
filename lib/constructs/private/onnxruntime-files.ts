/**
 * The files of the onnxruntime layer: onnxruntime-node and onnxruntime-common as installed, pruned to
 * what one Linux architecture loads at run time. The full install (every platform's binaries) is about
 * 288 MB, more than Lambda takes; one architecture's share is under 50 MB.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { AssetFile } from './bundling';
import { modelshipRoot } from './project-paths';

/** Lambda's two architectures, as Node's process.arch names them (the binaries' directory names). */
export type NodeArch = 'x64' | 'arm64';

/** Where Lambda's Node.js runtimes look for layer modules: /opt/nodejs/node_modules. */
export const LAYER_MODULES_DIR = 'nodejs/node_modules';

/**
 * The packages loaded at run time. onnxruntime-node's other dependencies (adm-zip, global-agent)
 * serve only its install script, which Lambda never runs.
 */
const RUNTIME_PACKAGES = ['onnxruntime-node', 'onnxruntime-common'] as const;

/** Never loaded by the CPU execution provider: GPU providers that a full install may have fetched. */
const GPU_PROVIDER = /^libonnxruntime_providers_/;
/** Directories never loaded at run time: nested installs, install scripts, tests, TypeScript sources (lib/). */
const SKIPPED_DIRS = new Set(['node_modules', 'script', 'test', 'lib']);

interface PackageDir {
  readonly name: string;
  readonly dir: string;
  readonly version: string;
}

function packageRoot(name: string, entry: string): PackageDir {
  for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (json.name === name) return { name, dir, version: json.version ?? 'unknown' };
  }
  throw new Error(`cannot find the package directory of ${name} above ${entry}`);
}

/** onnxruntime-node as modelship itself loads it, and onnxruntime-common as onnxruntime-node would. */
function runtimePackages(): PackageDir[] {
  const node = packageRoot(RUNTIME_PACKAGES[0], require.resolve(RUNTIME_PACKAGES[0], { paths: [modelshipRoot()] }));
  const common = packageRoot(RUNTIME_PACKAGES[1], require.resolve(RUNTIME_PACKAGES[1], { paths: [node.dir] }));
  return [node, common];
}

function isRuntimeJs(file: string): boolean {
  return /\.(c|m)?js$/.test(file) || file === 'package.json' || /^(LICENSE|NOTICE|ThirdPartyNotices)/i.test(file);
}

function walk(dir: string, visit: (path: string) => void): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, visit);
    else if (entry.isFile()) visit(path);
  }
}

export interface OnnxRuntimeFiles {
  /** The installed onnxruntime-node's directory. */
  readonly packageDir: string;
  readonly version: string;
  readonly files: readonly AssetFile[];
  readonly bytes: number;
}

/**
 * Lists the layer's files for one architecture: each package's JavaScript and package.json files, and
 * onnxruntime-node's `bin/napi-v*\/linux/<arch>` binaries. Throws when that architecture's binaries are
 * not installed.
 */
export function onnxRuntimeFiles(arch: NodeArch): OnnxRuntimeFiles {
  const packages = runtimePackages();
  const files: AssetFile[] = [];
  let binaries = 0;
  for (const pkg of packages) {
    const add = (source: string): void => {
      const rel = relative(pkg.dir, source).split(sep).join('/');
      files.push({ source, target: `${LAYER_MODULES_DIR}/${pkg.name}/${rel}`, bytes: statSync(source).size });
    };
    for (const entry of readdirSync(pkg.dir, { withFileTypes: true })) {
      const path = join(pkg.dir, entry.name);
      if (entry.isFile() && isRuntimeJs(entry.name)) add(path);
      else if (entry.isDirectory() && entry.name === 'bin') {
        for (const napi of readdirSync(path).filter((d) => /^napi-v\d+$/.test(d))) {
          const archDir = join(path, napi, 'linux', arch);
          if (!existsSync(archDir)) continue;
          walk(archDir, (file) => {
            if (GPU_PROVIDER.test(file.slice(archDir.length + 1))) return;
            add(file);
            binaries++;
          });
        }
      } else if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) {
        walk(path, (file) => {
          if (isRuntimeJs(file.slice(file.lastIndexOf(sep) + 1))) add(file);
        });
      }
    }
  }
  if (binaries === 0) {
    throw new Error(
      `onnxruntime-node ${packages[0].version} at ${packages[0].dir} has no bin/napi-v*/linux/${arch} binaries: reinstall it with its linux ${arch} binaries`,
    );
  }
  files.sort((a, b) => a.target.localeCompare(b.target));
  return { packageDir: packages[0].dir, version: packages[0].version, files, bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}
