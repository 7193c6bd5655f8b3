/**
 * What every compression command shares: verify the base, make the compressed model (the method's
 * job), measure it beside the base with the engine that serves packages, apply the gates, and write a
 * new package version with its lineage, its `compression` entry and compression.json, golden samples
 * re-recorded from the new model. A failed gate or any error writes nothing; the base is only read.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InferenceEngine } from '../engine/engine';
import { createPackage, MODEL_FILE, readSampleRequests } from '../package/create';
import { sha256 } from '../package/hash';
import { readLabels } from '../package/labels';
import { MANIFEST_FILE, type Manifest } from '../package/manifest';
import { requireVerified } from '../package/verify';
import { stringifyJson } from '../protocol/json';
import { readDataset, type Dataset } from '../reuse/training-data';
import { withTempSibling } from '../util/atomic-dir';
import { systemClock, type Clock } from '../util/clock';
import { GateError } from './errors';
import { goldenDeviation, measureAccuracy, measureLatency, measureSessionCreation, type LatencyFigures, type Timer } from './measure';
import type { LeftInFloat } from './weighted-nodes';

export const COMPRESSION_REPORT = 'compression.json';

export type CompressionMethod = NonNullable<Manifest['compression']>['method'];

/** The options every compression command takes. */
export interface CompressOptions {
  /** The base package directory (pulled already when it came from a registry). */
  readonly base: string;
  readonly out: string;
  /** @default the base's name */
  readonly name?: string;
  /** @default the base's version with a prerelease tag naming the method, such as 1.0.0-int8 */
  readonly version?: string;
  /** Labelled held-out examples (JSON Lines or CSV): accuracy is reported and gated on them. */
  readonly eval?: string;
  /** Refuse a model whose eval accuracy is more than this many percentage points below the base's. @default 1.0 */
  readonly maxAccuracyDrop?: number;
  /** Refuse a model whose answers to the base's golden requests differ from the base's by more than this. @default - not gated */
  readonly maxGoldenDeviation?: number;
  /** The CSV label column. @default 'label' */
  readonly labelColumn?: string;
  readonly force?: boolean;
  /** Times the run, for the report only. @default the wall clock */
  readonly clock?: Clock;
  /** Times latency and session creation. @default performance.now */
  readonly timer?: Timer;
  /** How long each latency figure samples, in ms. @default 400 */
  readonly latencyBudgetMs?: number;
}

/** What a method made, and what it says about it. */
export interface Compressed {
  readonly bytes: Uint8Array;
  /** The settings, recorded in the manifest. */
  readonly parameters: Record<string, string | number | boolean | string[]>;
  /** The nodes rewritten, where the method rewrites nodes. */
  readonly quantized?: readonly string[];
  readonly forms?: Readonly<Record<string, string>>;
  readonly leftInFloat?: readonly LeftInFloat[];
  /** Whatever else the method reports (training history, units kept...). */
  readonly details?: Record<string, unknown>;
}

/** What a method is given: the base, and its eval data when --eval was given. */
export interface CompressContext {
  readonly baseDir: string;
  readonly manifest: Manifest;
  readonly bytes: Uint8Array;
  readonly labels?: readonly string[];
  readonly evalData?: Dataset;
  /** A scratch directory beside the output, removed afterwards. */
  readonly workDir: string;
}

export interface ModelFigures {
  readonly bytes: number;
  readonly sessionCreateMs: number;
  readonly latency: LatencyFigures;
  /** Top-1 accuracy on --eval. */
  readonly accuracy?: number;
}

export interface CompressionReport {
  /** What was gated, or that nothing was: the report's first line. */
  readonly gate: string;
  readonly method: CompressionMethod;
  readonly parameters: Compressed['parameters'];
  readonly base: { readonly name: string; readonly version: string; readonly modelSha256: string };
  readonly baseFigures: ModelFigures;
  readonly figures: ModelFigures;
  /** Compressed bytes over base bytes. */
  readonly bytesRatio: number;
  /** Percentage points of accuracy lost on --eval (negative when it rose). */
  readonly accuracyDrop?: number;
  readonly evalExamples?: number;
  /** The largest |difference| from the base's recorded golden answers. */
  readonly goldenDeviation: number;
  readonly quantized?: readonly string[];
  readonly forms?: Readonly<Record<string, string>>;
  readonly leftInFloat: readonly LeftInFloat[];
  readonly details?: Record<string, unknown>;
  readonly durationMs: number;
  readonly manifest: Manifest;
}

const TAGS: Record<CompressionMethod, string> = {
  optimize: 'optimized',
  'int8-weights': 'int8',
  'int8-dynamic': 'int8-dynamic',
  fp16: 'fp16',
  prune: 'pruned',
  distill: 'distilled',
};

/** The base's version with the method as a prerelease tag, so that @latest stays on the base: 1.0.0-int8, 1.0.0-rc.1.int8. */
export function defaultVersion(baseVersion: string, method: CompressionMethod): string {
  const [core, build] = baseVersion.split('+', 2);
  const tagged = core.includes('-') ? `${core}.${TAGS[method]}` : `${core}-${TAGS[method]}`;
  return build ? `${tagged}+${build}` : tagged;
}

/** The gate line, first in the report: what was checked, or that nothing was. */
function gateLine(o: CompressOptions, maxDrop: number): string {
  const gates = [
    ...(o.eval ? [`accuracy drop <= ${maxDrop} pt on ${o.eval}`] : []),
    ...(o.maxGoldenDeviation !== undefined ? [`golden deviation <= ${o.maxGoldenDeviation}`] : []),
  ];
  return gates.length === 0
    ? 'NOT GATED: no --eval and no --max-golden-deviation were given, so nothing checked this model against the base'
    : `gated: ${gates.join('; ')}`;
}

/**
 * An engine for a model that is not packaged yet: the base's manifest with the new model's size and
 * hash, beside it in `dir`, so that it is loaded and checked exactly as a package is.
 */
async function candidateEngine(
  dir: string,
  base: Manifest,
  bytes: Uint8Array,
  compression: Manifest['compression'],
): Promise<InferenceEngine> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MODEL_FILE), bytes);
  const { labels: _labels, ...rest } = base;
  const manifest = { ...rest, compression, model: { file: MODEL_FILE, bytes: bytes.length, sha256: sha256(bytes) } };
  await writeFile(join(dir, MANIFEST_FILE), stringifyJson(manifest, 2));
  return InferenceEngine.load(dir);
}

async function figuresOf(
  engine: InferenceEngine,
  bytes: Uint8Array,
  timer: Timer,
  budgetMs: number,
  evalData?: Dataset,
): Promise<ModelFigures> {
  return {
    bytes: bytes.length,
    sessionCreateMs: await measureSessionCreation(bytes, engine.manifest, timer),
    latency: await measureLatency(engine, timer, budgetMs),
    ...(evalData ? { accuracy: await measureAccuracy(engine, evalData) } : {}),
  };
}

export async function compressPackage(
  method: CompressionMethod,
  o: CompressOptions,
  make: (context: CompressContext) => Promise<Compressed>,
): Promise<CompressionReport> {
  const clock = o.clock ?? systemClock;
  const timer = o.timer ?? (() => performance.now());
  const started = clock.now();
  const manifest = await requireVerified(o.base, `the base package ${o.base}`, 'nothing was compressed');
  const bytes = await readFile(join(o.base, manifest.model.file));
  const labels = readLabels(o.base, manifest);
  const classes = manifest.outputs[0].shape.slice(1).reduce((a, b) => a * b, 1);
  const evalData = o.eval
    ? await readDataset(o.eval, { inputs: manifest.inputs, task: 'classification', classes, labels }, { labelColumn: o.labelColumn })
    : undefined;
  const maxDrop = o.maxAccuracyDrop ?? 1.0;
  const budget = o.latencyBudgetMs ?? 400;

  const name = o.name ?? manifest.name;
  const version = o.version ?? defaultVersion(manifest.version, method);

  // Beside the output, so that Ctrl-C or the next writer after a SIGKILL removes it (lib/util/atomic-dir.ts).
  return withTempSibling(o.out, async (work) => {
    const made = await make({ baseDir: o.base, manifest, bytes, labels, evalData, workDir: work });
    const baseEngine = await InferenceEngine.load(o.base);
    const compression = { method, parameters: made.parameters };
    const candidate = await candidateEngine(join(work, 'candidate'), manifest, made.bytes, compression);
    let baseFigures: ModelFigures;
    let figures: ModelFigures;
    let deviation: number;
    try {
      baseFigures = await figuresOf(baseEngine, bytes, timer, budget, evalData);
      figures = await figuresOf(candidate, made.bytes, timer, budget, evalData);
      deviation = await goldenDeviation(candidate, o.base, manifest);
    } finally {
      await Promise.all([baseEngine.release(), candidate.release()]);
    }
    const accuracyDrop =
      baseFigures.accuracy !== undefined && figures.accuracy !== undefined ? (baseFigures.accuracy - figures.accuracy) * 100 : undefined;

    const failed = [
      ...(accuracyDrop !== undefined && accuracyDrop > maxDrop
        ? [
            `accuracy on ${o.eval} fell ${accuracyDrop.toFixed(2)} pt (base ${baseFigures.accuracy!.toFixed(4)}, ${method} ${figures.accuracy!.toFixed(4)}), more than --max-accuracy-drop ${maxDrop}`,
          ]
        : []),
      ...(o.maxGoldenDeviation !== undefined && !(deviation <= o.maxGoldenDeviation)
        ? [`the golden samples deviate by up to ${deviation.toPrecision(3)}, more than --max-golden-deviation ${o.maxGoldenDeviation}`]
        : []),
    ];
    if (failed.length > 0) throw new GateError(`${method} refused: ${failed.join('; ')}; nothing was written`);

    const base = { name: manifest.name, version: manifest.version, modelSha256: manifest.model.sha256 };
    const report = {
      gate: gateLine(o, maxDrop),
      method,
      parameters: made.parameters,
      base,
      baseFigures,
      figures,
      bytesRatio: made.bytes.length / bytes.length,
      ...(accuracyDrop !== undefined ? { accuracyDrop, evalExamples: evalData!.count } : {}),
      goldenDeviation: deviation,
      ...(made.quantized ? { quantized: made.quantized } : {}),
      ...(made.forms ? { forms: made.forms } : {}),
      leftInFloat: made.leftInFloat ?? [],
      ...(made.details ? { details: made.details } : {}),
      durationMs: clock.now() - started,
    };
    const modelPath = join(work, MODEL_FILE);
    await writeFile(modelPath, made.bytes);
    const described = `${manifest.description ? `${manifest.description} ` : ''}Compressed by modelship (${method}) from ${manifest.name}@${manifest.version}.`;
    const written = await createPackage({
      modelPath,
      name,
      version,
      outDir: o.out,
      target: manifest.target,
      gpuPlatform: manifest.gpu?.platform,
      description: described.slice(0, 1024),
      samples: await Promise.all(manifest.samples.map((s) => readSampleRequests(join(o.base, s.request)).then((r) => r[0]))),
      labels,
      preprocess: manifest.preprocess,
      force: o.force,
      derivedFrom: base,
      compression,
      reports: { [COMPRESSION_REPORT]: `${stringifyJson(report, 2)}\n` },
    });
    return { ...report, manifest: written };
  });
}
