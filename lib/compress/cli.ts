/**
 * The CLI fronts of `optimize`, `quantize`, `prune` and `distill`: they resolve the base (a directory,
 * or NAME@VERSION pulled from --registry), run the method through compressPackage, and print the
 * report, its gate line first. The work is in compress-package.ts and the method files.
 */
import { join } from 'node:path';
import { withBase, type RegistryOptions } from '../registry/base-package';
import type { TrainingListener } from '../reuse/training-loop';
import { trainingProgress } from '../reuse/training-progress';
import {
  COMPRESSION_REPORT,
  compressPackage,
  type CompressContext,
  type Compressed,
  type CompressionMethod,
  type CompressionReport,
  type CompressOptions,
} from './compress-package';
import { distillModel, type DistillOptions } from './distill';
import { optimizeModel, type OptimizeLevel } from './optimize';
import { pruneModel, type PruneOptions } from './prune';
import { quantizeModel, type QuantizeMode } from './quantize';

export type CompressCommandOptions = RegistryOptions & Omit<CompressOptions, 'base' | 'clock' | 'timer' | 'latencyBudgetMs'>;

const ms = (v: number) => `${v < 1 ? v.toFixed(3) : v.toFixed(2)} ms`;
const kb = (v: number) => `${(v / 1024).toFixed(1)} KiB`;

/** The report as a person reads it: the gate first, then the figures beside the base's. */
export function formatReport(r: CompressionReport, out: string): string {
  const b = r.baseFigures;
  const f = r.figures;
  const lines = [
    r.gate,
    `${r.method}: ${r.base.name}@${r.base.version} -> ${r.manifest.name}@${r.manifest.version} in ${out}`,
    `  size         ${kb(b.bytes)} -> ${kb(f.bytes)} (${(r.bytesRatio * 100).toFixed(1)}%)`,
    `  latency      batch 1 ${ms(b.latency.batch1Ms)} -> ${ms(f.latency.batch1Ms)}; batch 64 ${ms(b.latency.batch64Ms)} -> ${ms(f.latency.batch64Ms)}`,
    `  session      created in ${ms(b.sessionCreateMs)} -> ${ms(f.sessionCreateMs)}`,
  ];
  if (r.accuracyDrop !== undefined)
    lines.push(
      `  accuracy     ${b.accuracy!.toFixed(4)} -> ${f.accuracy!.toFixed(4)} on ${r.evalExamples} examples (${r.accuracyDrop >= 0 ? '-' : '+'}${Math.abs(r.accuracyDrop).toFixed(2)} pt)`,
    );
  lines.push(`  golden       largest deviation from the base's answers ${r.goldenDeviation.toPrecision(3)}`);
  if (r.quantized) lines.push(`  rewritten    ${r.quantized.join(', ')}`);
  const layers = r.details?.layers as ReadonlyArray<{ node: string; before: number; after: number }> | undefined;
  if (layers) lines.push(`  pruned       ${layers.map((l) => `${l.node} ${l.before} -> ${l.after}`).join(', ')}`);
  if (r.method === 'distill')
    lines.push(`  student      ${String(r.parameters.student)} at temperature ${String(r.parameters.temperature)}`);
  for (const l of r.leftInFloat) lines.push(`  left float   ${l.node} (${l.opType}): ${l.reason}`);
  lines.push(`  report       ${join(out, COMPRESSION_REPORT)}`);
  return lines.join('\n');
}

async function runMethod(
  method: CompressionMethod,
  base: string,
  o: CompressCommandOptions,
  make: (c: CompressContext) => Promise<Compressed>,
): Promise<void> {
  const report = await withBase(base, o, (dir) => {
    const { registry: _r, endpointUrl: _e, region: _g, profile: _p, ...options } = o;
    process.stderr.write(
      `${method}: measuring ${base} and the ${method} model (size, session creation, latency${o.eval ? ', accuracy' : ''})...\n`,
    );
    return compressPackage(method, { ...options, base: dir }, make);
  });
  console.log(formatReport(report, o.out));
}

export function runOptimize(base: string, o: CompressCommandOptions & { level?: OptimizeLevel }): Promise<void> {
  const { level, ...rest } = o;
  return runMethod('optimize', base, rest, (c) => optimizeModel(c, level));
}

export function runQuantize(
  base: string,
  o: CompressCommandOptions & { mode: QuantizeMode; perTensor?: boolean; exclude?: string[] },
): Promise<void> {
  const { mode, perTensor, exclude, ...rest } = o;
  return runMethod(mode, base, rest, (c) => quantizeModel(c, mode, { perTensor, exclude }));
}

/** Runs a method that trains, with a progress bar per epoch on stderr. */
async function withTrainingProgress(run: (listener: TrainingListener) => Promise<void>): Promise<void> {
  const bar = trainingProgress();
  try {
    await run(bar);
  } finally {
    bar.stop();
  }
}

export function runPrune(base: string, o: CompressCommandOptions & Omit<PruneOptions, 'listener'>): Promise<void> {
  const { sparsity, data, epochs, batchSize, learningRate, seed, ...rest } = o;
  // --label-column names the label of --data as well as of --eval, so it stays in `rest` too.
  const training = { sparsity, data, epochs, batchSize, learningRate, seed, labelColumn: o.labelColumn };
  return withTrainingProgress((listener) => runMethod('prune', base, rest, (c) => pruneModel(c, { ...training, listener })));
}

export function runDistill(base: string, o: CompressCommandOptions & Omit<DistillOptions, 'listener'>): Promise<void> {
  const { student, temperature, data, epochs, batchSize, learningRate, seed, ...rest } = o;
  const training = { student, temperature, data, epochs, batchSize, learningRate, seed };
  return withTrainingProgress((listener) => runMethod('distill', base, rest, (c) => distillModel(c, { ...training, listener })));
}
