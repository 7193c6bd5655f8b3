/**
 * The `publish`, `pull` and `list` commands' output: a progress bar on a terminal (plain lines otherwise)
 * on stderr, results on stdout. bin/modelship.ts parses the options and calls these.
 */
import { Presets, SingleBar } from 'cli-progress';
import { listRegistry } from './list';
import { parseRegistryUri } from './location';
import { publishPackage } from './publish';
import { parsePackageRef, pullPackage } from './pull';
import type { TrustPolicy } from '../trust/trust-policy';
import { createRegistryClient, type RegistryClientOptions } from './s3';

export interface RegistryCommandOptions extends RegistryClientOptions {
  /** s3://bucket/prefix */
  readonly registry: string;
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

interface Bar {
  update(loaded: number, total?: number): void;
  stop(): void;
}

/** A cli-progress bar in bytes on a terminal; on a pipe, one line per quarter so logs stay short. */
function byteBar(label: string): Bar {
  if (process.stderr.isTTY) {
    let bar: SingleBar | undefined;
    return {
      update(loaded, total) {
        if (bar === undefined) {
          bar = new SingleBar(
            { format: `${label} [{bar}] {percentage}% | {done} / {size}`, stream: process.stderr, hideCursor: true },
            Presets.shades_classic,
          );
          bar.start(total ?? loaded, loaded, { done: formatBytes(loaded), size: formatBytes(total ?? loaded) });
        }
        if (total !== undefined) bar.setTotal(total);
        bar.update(loaded, { done: formatBytes(loaded), size: formatBytes(total ?? loaded) });
      },
      stop: () => bar?.stop(),
    };
  }
  let shown = -1;
  return {
    update(loaded, total) {
      if (!total) return;
      const quarter = Math.floor((loaded / total) * 4);
      if (quarter > shown) {
        shown = quarter;
        process.stderr.write(`${label}: ${formatBytes(loaded)} of ${formatBytes(total)}\n`);
      }
    },
    stop: () => undefined,
  };
}

export async function runPublish(
  dir: string,
  o: RegistryCommandOptions & { readonly partSizeMib?: number; readonly multipartThresholdMib?: number },
): Promise<void> {
  const registry = parseRegistryUri(o.registry);
  const bar = byteBar('uploading');
  try {
    const r = await publishPackage({
      client: createRegistryClient(o),
      registry,
      dir,
      partSizeBytes: o.partSizeMib !== undefined ? o.partSizeMib * 1024 * 1024 : undefined,
      multipartThresholdBytes: o.multipartThresholdMib !== undefined ? o.multipartThresholdMib * 1024 * 1024 : undefined,
      onProgress: (p) => bar.update(p.loaded, p.total),
    });
    bar.stop();
    console.log(`published ${r.name}@${r.version} to ${r.uri}${r.multipart ? ' (multipart)' : ''}`);
    console.log(`  tarball: ${r.size} bytes, sha256 ${r.sha256}`);
    console.log(`  model:   sha256 ${r.modelSha256}`);
    console.log(`  index:   s3://${r.bucket}/${r.indexKey}`);
    if (r.signatureKey) console.log(`  signature: s3://${r.bucket}/${r.signatureKey}`);
    for (const w of r.warnings) process.stderr.write(`modelship: warning: ${w}\n`);
  } finally {
    bar.stop();
  }
}

export async function runPull(
  ref: string,
  o: RegistryCommandOptions & { readonly out: string; readonly sha256?: string; readonly samples?: boolean; readonly trust?: TrustPolicy },
): Promise<void> {
  const registry = parseRegistryUri(o.registry);
  const { name, version } = parsePackageRef(ref);
  const bar = byteBar('downloading');
  try {
    const r = await pullPackage({
      client: createRegistryClient(o),
      registry,
      name,
      version,
      outDir: o.out,
      sha256: o.sha256,
      runSamples: o.samples !== false,
      trust: o.trust,
      onProgress: (p) => bar.update(p.loaded, p.total),
    });
    bar.stop();
    console.log(`pulled ${r.name}@${r.version} from ${r.uri} into ${r.dir}`);
    console.log(
      `  tarball: ${r.bytes} bytes, sha256 ${r.sha256} (matches the ${r.expectedFrom === 'argument' ? '--sha256 given' : r.expectedFrom === 'index' ? 'index' : "object's metadata"})`,
    );
    console.log(`  model sha256 matches the manifest${o.samples !== false ? `; ${r.samplesChecked} golden sample(s) reproduce` : ''}`);
    if (r.signature) console.log(`  signed by ${r.signature.keySource}: ${r.signature.files} files match the signature`);
  } finally {
    bar.stop();
  }
}

export async function runList(name: string | undefined, o: RegistryCommandOptions & { readonly json?: boolean }): Promise<void> {
  const models = await listRegistry({ client: createRegistryClient(o), registry: parseRegistryUri(o.registry), name });
  if (o.json) {
    console.log(JSON.stringify(models, null, 2));
    return;
  }
  if (models.length === 0) {
    console.log(`no models in ${o.registry}`);
    return;
  }
  const rows = [['NAME', 'VERSION', 'SIZE', 'SHA256', 'PUBLISHED', 'DERIVED FROM', '']];
  for (const m of models) {
    for (const v of m.versions) {
      rows.push([
        m.name,
        v.version,
        formatBytes(v.size),
        v.sha256.slice(0, 12),
        v.time,
        v.derivedFrom ?? '',
        v.version === m.latest ? 'latest' : '',
      ]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    );
}
