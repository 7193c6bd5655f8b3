/**
 * `npm run bench`: the performance targets P1-P5 of README.md's "Benchmarks" table, measured on this machine in one run and quoted as
 * ratios next to their targets. Figures only: a missed target is reported, never a failure (the exit status
 * is non-zero only when a part could not be measured at all).
 *
 *   node dist/bench/run.js [p1] [p2] [p3] [p3l] [p4] [p5] [--cold-start-sizes] [--no-write]
 *
 * --cold-start-sizes measures only the cold-start table by model size (bench/cold-start-sizes.ts), and
 * writes it into results.json beside the other parts' last figures.
 *
 * With no part named, all five run and bench/results.json is written. Naming parts runs only those and
 * leaves results.json alone unless --write is given, which replaces those parts in it and keeps the rest.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { machineInfo, round, section, type MachineInfo } from './common';
import { HANDLER_BUNDLE_TARGET_BYTES, LAMBDA_ARTIFACT_TARGET_BYTES, lambdaArtifactSize, type LambdaArtifactSize } from './lambda-size';
import { benchLambdaCold, type LambdaColdFigures } from './p3l-lambda-cold';
import { benchColdStartSizes, type SizeColdFigures } from './cold-start-sizes';
import { EVAL_SET, MNIST_DIR, pixelRows, resolveBenchModel, type BenchModel } from './model';
import { benchOverhead, type OverheadFigures } from './p1-overhead';
import { benchThroughput, type ThroughputFigures } from './p2-throughput';
import { benchColdStart, type ColdFigures } from './p3-cold-start';
import { benchCompression, P5_TARGETS, type CompressionFigures } from './p5-compression';

type Part = 'p1' | 'p2' | 'p3' | 'p3l' | 'p4' | 'p5' | 'sizes';
/** What a run with no part named measures; the cold-start table by size only runs when asked for. */
const PARTS: readonly Part[] = ['p1', 'p2', 'p3', 'p3l', 'p4', 'p5'];
const ALL_PARTS: readonly Part[] = [...PARTS, 'sizes'];
/** The id of a part's rows in the table. */
const rowId = (p: Part): string => (p === 'sizes' ? 'COLD' : p.toUpperCase());

export interface TargetRow {
  readonly id: string;
  readonly variant: string;
  /** The measured figure, with its unit. */
  readonly figure: string;
  readonly ratio?: number;
  readonly target?: string;
  readonly met?: boolean;
}

export interface BenchResults {
  readonly machine: MachineInfo;
  readonly model: {
    readonly name: string;
    readonly version: string;
    readonly dir: string;
    readonly fallback: boolean;
    readonly modelBytes: number;
    readonly inputs: string;
  };
  readonly notes: readonly string[];
  readonly table: readonly TargetRow[];
  readonly p1?: readonly OverheadFigures[];
  readonly p2?: readonly ThroughputFigures[];
  readonly p3?: ColdFigures;
  readonly p3l?: LambdaColdFigures;
  readonly sizes?: readonly SizeColdFigures[];
  readonly p4?: LambdaArtifactSize & { readonly targetBytes: number; readonly computedTotalBytes?: number };
  readonly p5?: readonly CompressionFigures[];
  /** 1-minute load average when each part started and ended: above the core count, other processes competed. */
  readonly loadAverage: Readonly<Partial<Record<Part, { readonly start: number; readonly end: number }>>>;
  readonly errors: Readonly<Partial<Record<Part, string>>>;
  readonly durationSeconds: number;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 1e6, 2)} MB`;

function p5Rows(figures: readonly CompressionFigures[]): TargetRow[] {
  return figures.map((f) => {
    const target = P5_TARGETS[f.method];
    const latency = f.batch64Ms / f.baseBatch64Ms;
    const met = target && f.bytesRatio <= target.bytes && f.accuracyDrop <= target.drop && (!target.latency64 || latency <= 1);
    return {
      id: 'P5',
      variant: `${f.model} ${f.method}`,
      figure: `${fmt(f.bytesRatio * 100)}% bytes, accuracy ${f.accuracy.toFixed(4)} vs ${f.baseAccuracy.toFixed(4)}, batch 64 ${fmt(latency, 2)}x fp32`,
      ratio: f.bytesRatio,
      ...(target
        ? {
            target: `bytes <= ${Math.round(target.bytes * 100)}%, drop <= ${target.drop} pt${target.latency64 ? ', batch 64 <= 1x' : ''}`,
            met: Boolean(met),
          }
        : {}),
    };
  });
}

/** P2 targets (issue 12): the local server's requests/s against the hand-written server's, by batch size. */
export const P2_TARGETS: Readonly<Record<number, number>> = { 1: 1.0, 64: 1.5 };

/** P1 targets (issue 12): JSON against the naive codec, binary against raw, at batch 1 and 64. */
export const P1_TARGETS = {
  jsonVsNaive: { 1: 1.0, 64: 0.5 } as Readonly<Record<number, number>>,
  binaryOverRawUs: { 1: 5 } as Readonly<Record<number, number>>,
  binaryVsRaw: { 64: 1.1 } as Readonly<Record<number, number>>,
};

function p1Rows(figures: readonly OverheadFigures[]): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const f of figures) {
    const v = f.variants;
    const t = f.targets;
    const b = f.batch;
    rows.push({ id: 'P1', variant: `batch ${b}: raw session.run`, figure: `${fmt(v.raw.medianUs)} µs/call`, ratio: 1 });
    rows.push({
      id: 'P1',
      variant: `batch ${b}: naive codec (JSON.parse, fill, run, JSON.stringify)`,
      figure: `${fmt(v.naive.medianUs)} µs/call`,
      ratio: v.naive.ratio,
    });
    const naiveTarget = P1_TARGETS.jsonVsNaive[b];
    rows.push({
      id: 'P1',
      variant: `batch ${b}: inferResponse JSON (full validation) vs naive codec`,
      figure: `${fmt(v.json.medianUs)} µs/call (${fmt(v.json.ratio, 2)}x raw; per round ${fmt(t.jsonVsNaivePerRound, 2)}x naive)`,
      ratio: t.jsonVsNaive,
      target: naiveTarget === undefined ? undefined : `≤ ${naiveTarget.toFixed(2)}x naive`,
      met: naiveTarget === undefined ? undefined : t.jsonVsNaive <= naiveTarget,
    });
    const plusTarget = P1_TARGETS.binaryOverRawUs[b];
    const timesTarget = P1_TARGETS.binaryVsRaw[b];
    rows.push({
      id: 'P1',
      variant: `batch ${b}: inferResponse binary vs raw (modelship client, tensor aligned)`,
      figure: `${fmt(v.binary.medianUs)} µs/call (raw + ${fmt(t.binaryOverRawUs)} µs)`,
      ratio: v.binary.ratio,
      target:
        plusTarget !== undefined ? `≤ raw + ${plusTarget} µs` : timesTarget !== undefined ? `≤ ${timesTarget.toFixed(2)}x raw` : undefined,
      met:
        plusTarget !== undefined ? t.binaryOverRawUs <= plusTarget : timesTarget !== undefined ? v.binary.ratio <= timesTarget : undefined,
    });
    rows.push({
      id: 'P1',
      variant: `batch ${b}: same, tensor unaligned (header as JSON.stringify writes it)`,
      figure: `${fmt(v.binaryUnaligned.medianUs)} µs/call (raw + ${fmt(v.binaryUnaligned.medianUs - v.raw.medianUs)} µs)`,
      ratio: v.binaryUnaligned.ratio,
    });
  }
  return rows;
}

function p2Rows(figures: readonly ThroughputFigures[]): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const f of figures) {
    const s = f.servers;
    const cpu = (x: { cpuUsPerRequest?: number }) => (x.cpuUsPerRequest === undefined ? '' : `, ${fmt(x.cpuUsPerRequest, 0)} µs CPU/req`);
    rows.push({
      id: 'P2',
      variant: `batch ${f.batch}: minimal node:http + ort`,
      figure: `${fmt(s.minimal.reqPerSec, 0)} req/s${cpu(s.minimal)}`,
      ratio: 1,
    });
    rows.push({
      id: 'P2',
      variant: `batch ${f.batch}: local server (auth, limits, validation)`,
      figure: `${fmt(s.local.reqPerSec, 0)} req/s${cpu(s.local)}`,
      ratio: s.local.ratio,
      ...(P2_TARGETS[f.batch] === undefined
        ? {}
        : { target: `≥ ${P2_TARGETS[f.batch].toFixed(2)}x`, met: s.local.ratio >= P2_TARGETS[f.batch] }),
    });
    if (s.local.cpuRatio !== undefined) {
      rows.push({
        id: 'P2',
        variant: `batch ${f.batch}: same, by server CPU per request`,
        figure: 'minimal CPU/req ÷ local CPU/req',
        ratio: s.local.cpuRatio,
      });
    }
  }
  return rows;
}

function p3Rows(f: ColdFigures): TargetRow[] {
  return [
    { id: 'P3', variant: 'minimal script: load ort, create, run once', figure: `${fmt(f.minimal.medianMs)} ms`, ratio: 1 },
    {
      id: 'P3',
      variant: 'modelship serve: spawn -> first 200',
      figure: `${fmt(f.modelship.medianMs)} ms`,
      ratio: f.modelship.ratio,
      target: '≤ 1.15x',
      met: f.modelship.ratio <= 1.15,
    },
    ...(f.minimalServer
      ? [
          {
            id: 'P3',
            variant: 'for scale: hand-written node:http + ort server (P2 baseline): spawn -> first 200',
            figure: `${fmt(f.minimalServer.medianMs)} ms`,
            ratio: f.minimalServer.ratio,
          },
        ]
      : []),
  ];
}

function p3lRows(f: LambdaColdFigures): TargetRow[] {
  const w = f.firstRequest;
  return [
    {
      id: 'P3L',
      variant: 'Lambda layout, minimal handler: load ort, create, run once',
      figure: `${fmt(f.minimal.medianMs)} ms (p90 ${fmt(f.minimal.p90Ms)})`,
      ratio: 1,
    },
    {
      id: 'P3L',
      variant: `Lambda layout, synthesized asset (${f.memorySize} MB): process start -> INIT -> first event answered`,
      figure: `${fmt(f.modelship.medianMs)} ms (p90 ${fmt(f.modelship.p90Ms)})`,
      ratio: f.modelship.ratio,
      target: '≤ 1.15x',
      met: f.modelship.ratio <= 1.15,
    },
    {
      id: 'P3L',
      variant: 'floor: minimal handler + model sha256 + first golden sample answered and checked',
      figure: `${fmt(f.minimalChecked.medianMs)} ms (p90 ${fmt(f.minimalChecked.p90Ms)})`,
      ratio: f.minimalChecked.ratio,
    },
    {
      id: 'P3L',
      variant: 'Lambda layout: first infer event after INIT vs a warm one',
      figure: `${fmt(f.firstAfterInit.firstMs, 2)} vs ${fmt(f.firstAfterInit.warmMs, 2)} ms`,
      ratio: f.firstAfterInit.ratio,
      target: '≤ 2x',
      met: f.firstAfterInit.ratio <= 2,
    },
    {
      id: 'P3L',
      variant: 'of which session.run (onnxruntime-common JS, one event-loop turn, the native run): first event vs warm',
      figure: `${fmt(f.firstAfterInit.run.firstMs, 3)} vs ${fmt(f.firstAfterInit.run.warmMs, 3)} ms`,
      ratio: f.firstAfterInit.run.ratio,
    },
    {
      id: 'P3L',
      variant: 'first request after a load, without the warm-up (engine alone)',
      figure: `${fmt(w.withoutWarmUp.firstMs, 2)} ms vs warm ${fmt(w.withoutWarmUp.warmMs, 2)} ms`,
      ratio: round(w.withoutWarmUp.firstMs / w.withoutWarmUp.warmMs, 2),
    },
    {
      id: 'P3L',
      variant: 'first request after a load, with the warm-up',
      figure: `${fmt(w.withWarmUp.firstMs, 2)} ms vs warm ${fmt(w.withWarmUp.warmMs, 2)} ms`,
      ratio: round(w.withWarmUp.firstMs / w.withWarmUp.warmMs, 2),
    },
  ];
}

function sizeRows(figures: readonly SizeColdFigures[]): TargetRow[] {
  return figures.flatMap((f) => [
    {
      id: 'COLD',
      variant: `${f.label} (${mb(f.modelBytes)}): modelship serve, spawn -> first 200`,
      figure: `median ${fmt(f.serve.medianMs)} ms, p90 ${fmt(f.serve.p90Ms)} ms`,
    },
    {
      id: 'COLD',
      variant: `${f.label}: Lambda layout (${f.memorySize} MB), start -> INIT -> first event answered`,
      figure: `median ${fmt(f.lambda.medianMs)} ms, p90 ${fmt(f.lambda.p90Ms)} ms`,
    },
    ...(f.lambdaInit
      ? [
          {
            id: 'COLD',
            variant: `${f.label}: Lambda INIT, median of each part`,
            figure: `read ${fmt(f.lambdaInit.readMs)} ms, sha256 ${fmt(f.lambdaInit.hashMs)} ms, session ${fmt(f.lambdaInit.sessionMs)} ms, warm-up ${fmt(f.lambdaInit.warmUpMs)} ms`,
          },
        ]
      : []),
  ]);
}

function p4Rows(f: LambdaArtifactSize & { readonly computedTotalBytes?: number }): TargetRow[] {
  const rows: TargetRow[] = [
    {
      id: 'P4',
      variant: `inference handler bundle, index.js (${f.source})`,
      figure: `${fmt(f.handlerBytes / 1000)} KB`,
      target: `≤ ${HANDLER_BUNDLE_TARGET_BYTES / 1000} KB`,
      met: f.handlerBytes <= HANDLER_BUNDLE_TARGET_BYTES,
    },
    {
      id: 'P4',
      variant: `Lambda function + layer, unzipped (${f.source})`,
      figure: `${mb(f.totalBytes)} (fn ${mb(f.functionBytes)} + layer ${mb(f.layerBytes)})`,
      target: `≤ ${mb(LAMBDA_ARTIFACT_TARGET_BYTES)}`,
      met: f.totalBytes <= LAMBDA_ARTIFACT_TARGET_BYTES,
    },
  ];
  if (f.computedTotalBytes !== undefined)
    rows.push({ id: 'P4', variant: 'cross-check: computed from the parts', figure: mb(f.computedTotalBytes) });
  return rows;
}

function printTable(rows: readonly TargetRow[]): void {
  const header = ['', 'variant', 'figure', 'ratio', 'target', 'met?'];
  const cells = rows.map((r) => [
    r.id,
    r.variant,
    r.figure,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 3 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

/**
 * A run of some parts, written over the results of an earlier full run: the parts measured replace theirs
 * (figures and table rows), the others stay, and a note says which parts are from when.
 */
function mergeResults(path: string, fresh: BenchResults, parts: readonly Part[]): BenchResults {
  let old: BenchResults;
  try {
    old = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  } catch {
    return fresh;
  }
  const rerun = new Set(parts.map(rowId));
  const table = ALL_PARTS.flatMap((p) => {
    const id = rowId(p);
    return (rerun.has(id) ? fresh.table : (old.table ?? [])).filter((r) => r.id === id);
  });
  const merged: Record<string, unknown> = { ...old, ...fresh, table };
  for (const p of ALL_PARTS) if (!parts.includes(p)) merged[p] = old[p];
  if (ALL_PARTS.every((p) => parts.includes(p) || old[p] === undefined))
    return { ...(merged as unknown as BenchResults), notes: fresh.notes };
  return {
    ...(merged as unknown as BenchResults),
    notes: [
      ...fresh.notes,
      `${[...rerun].join(', ')} measured ${fresh.machine.date}; the other parts are from the run of ${old.machine.date}`,
    ],
    loadAverage: { ...old.loadAverage, ...fresh.loadAverage },
    errors: { ...Object.fromEntries(Object.entries(old.errors).filter(([p]) => !parts.includes(p as Part))), ...fresh.errors },
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const args = process.argv.slice(2);
  const named = ALL_PARTS.filter((p) => args.includes(p) || (p === 'sizes' && args.includes('--cold-start-sizes')));
  const parts = named.length ? named : PARTS;
  const write = args.includes('--write') || (named.length === 0 && !args.includes('--no-write'));
  const root = resolve(__dirname, '..', '..');
  process.chdir(root);

  const machine = machineInfo();
  process.stderr.write(
    `modelship bench: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, onnxruntime-node ${machine.onnxruntime}\n`,
  );
  const model: BenchModel = await resolveBenchModel(root);
  const notes: string[] = [];
  if (model.fallback) {
    notes.push(
      `${MNIST_DIR} is missing: measured a synthetic package of the same signature (784-100-10 MLP, random weights) built in ${model.dir}`,
    );
  }
  const inputs =
    pixelRows(1, model.features, root).source === 'mnist-eval'
      ? `held-out digits from ${EVAL_SET}, evenly spread, sent as uint8/255 doubles`
      : 'synthetic MNIST-like rows (80% zeros, the rest k/255), seeded';
  notes.push(`inputs: ${inputs}`);
  process.stderr.write(`model: ${model.name}@${model.version} (${model.fallback ? 'FALLBACK, ' : ''}${model.dir})\n`);

  const errors: Partial<Record<Part, string>> = {};
  const loadAverage: Partial<Record<Part, { start: number; end: number }>> = {};
  const guard = async <T>(part: Part, f: () => Promise<T>): Promise<T | undefined> => {
    if (!parts.includes(part)) return undefined;
    const start = round(loadavg()[0], 2);
    try {
      return await f();
    } catch (err) {
      errors[part] = (err as Error).stack ?? String(err);
      process.stderr.write(`${part.toUpperCase()} could not be measured: ${errors[part]}\n`);
      return undefined;
    } finally {
      loadAverage[part] = { start, end: round(loadavg()[0], 2) };
    }
  };

  const p4 = await guard('p4', async () => {
    section('P4 Lambda artifact size');
    const measured = await lambdaArtifactSize({ packageDir: model.dir, root });
    // When cdk.out had the assets, the figure computed from the parts is kept as a cross-check.
    const computed =
      measured.source === 'cdk.out' ? await lambdaArtifactSize({ packageDir: model.dir, root, useCdkOut: false }) : undefined;
    process.stderr.write(
      `  ${measured.source}: ${measured.totalBytes} bytes${computed ? `; computed from parts: ${computed.totalBytes} bytes` : ''}\n`,
    );
    return { ...measured, computedTotalBytes: computed?.totalBytes };
  });
  const p1 = await guard('p1', async () => {
    section('P1 warm overhead (in process: raw session.run and the naive codec vs inferResponse JSON / binary)');
    return benchOverhead(model);
  });
  const p2 = await guard('p2', async () => {
    section('P2 served throughput (autocannon, 4 keep-alive connections, servers in child processes)');
    return benchThroughput(model);
  });
  const p3 = await guard('p3', async () => {
    section('P3 cold start (spawn -> first answered inference)');
    return benchColdStart(model);
  });

  const p3l = await guard('p3l', async () => {
    section('P3L Lambda layout cold start (the synthesized asset at /var/task + /opt)');
    return benchLambdaCold(model);
  });

  const sizes = await guard('sizes', async () => {
    section('Cold start by model size (synthetic MLPs of about 5, 50 and 200 MB)');
    return benchColdStartSizes();
  });

  const p5 = await guard('p5', async () => {
    section('P5 compression (held-out accuracy, bytes and latency beside fp32)');
    return benchCompression(join(root, 'models'));
  });

  const busiest = Math.max(...Object.values(loadAverage).flatMap((l) => [l.start, l.end]));
  if (busiest > machine.cores) {
    notes.push(
      `the 1-minute load average reached ${busiest} on ${machine.cores} cores during the run: other processes competed for the CPU, so absolute figures are low and ratios noisier than on an idle machine`,
    );
  }
  const table: TargetRow[] = [
    ...(p1 ? p1Rows(p1) : []),
    ...(p2 ? p2Rows(p2) : []),
    ...(p3 ? p3Rows(p3) : []),
    ...(p3l ? p3lRows(p3l) : []),
    ...(p4 ? p4Rows(p4) : []),
    ...(p5 ? p5Rows(p5) : []),
    ...(sizes ? sizeRows(sizes) : []),
  ];
  const results: BenchResults = {
    machine,
    model: {
      name: model.name,
      version: model.version,
      dir: model.fallback ? model.dir : relative(root, model.dir),
      fallback: model.fallback,
      modelBytes: model.modelBytes,
      inputs,
    },
    notes,
    table,
    p1,
    p2,
    p3,
    p3l,
    sizes,
    p4: p4 ? { ...p4, targetBytes: LAMBDA_ARTIFACT_TARGET_BYTES } : undefined,
    p5,
    loadAverage,
    errors,
    durationSeconds: round((performance.now() - started) / 1000, 1),
  };

  console.log(
    `\nmodelship bench: ${model.name}@${model.version}${model.fallback ? ' (FALLBACK: synthetic mnist-mlp signature)' : ''}; ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}`,
  );
  printTable(table);
  for (const n of notes) console.log(`note: ${n}`);
  if (p1)
    console.log(
      'P1: median of per-call times, variants alternating in shuffled blocks; ratio = variant median / raw median, or / naive median on the JSON rows.',
    );
  if (p2) {
    console.log(
      `P2: autocannon, ${p2[0]?.connections} keep-alive connections, ${p2[0]?.warmupSeconds} s warmup each, then ${p2[0]?.sliceSeconds} s slices in order ${p2[0]?.order} ` +
        '(L local, M minimal); req/s = 2xx responses / seconds over all slices; ratio = median of the per-pair ratios; ' +
        'CPU/req = server process CPU time (all threads, /proc) / answered requests, steadier than req/s when other processes compete.',
    );
  }
  if (p3)
    console.log(
      `P3: median of ${p3.repeats} runs each, alternating. modelship: ${p3.measures.modelship}. minimal: ${p3.measures.minimal}.`,
    );
  for (const part of Object.keys(errors)) console.log(`${part.toUpperCase()}: could not be measured (see stderr)`);

  if (write) {
    const path = join(root, 'bench', 'results.json');
    const written = mergeResults(path, results, parts);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(written, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
    console.log(`wrote ${relative(root, path)} (${results.durationSeconds} s)`);
  }
  if (Object.keys(errors).length > 0) process.exitCode = 1;
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
