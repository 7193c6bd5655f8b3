/**
 * P3L: the synthesized Lambda asset, laid out as Lambda lays it out (bench/lambda-layout.ts), cold and warm.
 *
 * - cold, modelship: spawn of `node lambda-runner.js cold` in the layout -> the handler module loaded (INIT:
 *   package read, sha256, session, warm-up) -> one REST API infer event answered -> its `answered` line.
 * - cold, minimal: spawn of bench/minimal-cold.js copied into the same layout, finding onnxruntime-node in the
 *   layer through NODE_PATH: load it, read /var/task/model's model, create the session, run once -> `done`.
 * - cold, minimal with the required checks (reported, no target): bench/minimal-checked-cold.js in the same
 *   layout, the minimal handler plus the model's sha256 and the first golden sample answered and checked:
 *   the INIT work the package format and the warm-up require, with nothing of modelship's.
 * - first after INIT: in each of `repeats` processes, INIT awaited (a ready event), then the first infer event;
 *   the median of those first events, against the median of the warm ones that followed them. The same for
 *   the `session.run` inside each event, timed by the runner.
 * - first request, before and after warm-up: bench/first-request.js in a fresh process, the engine loaded
 *   without the warm-up and with it, first inferResponse against the warm median. Same body throughout.
 *
 * The cold sides rotate, one unmeasured run each first, so they see the same page cache.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, progress, quantile, round, spawnNode, waitExit, waitForLine } from './common';
import { type LambdaLayout, lambdaProcessEnv, synthLambdaLayout } from './lambda-layout';
import { restProxyEvent } from '../lambda/api-gateway';
import { type BenchModel, requestBodies } from './model';

export interface SpreadStats {
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly samplesMs: readonly number[];
}

export interface LambdaColdFigures {
  readonly repeats: number;
  readonly memorySize: number;
  /** The synthesized function's index.js. */
  readonly handlerBundleBytes: number;
  readonly modelship: SpreadStats & { readonly ratio: number };
  readonly minimal: SpreadStats;
  /** bench/minimal-checked-cold.js: the minimal handler plus the sha256 and the golden-sample check. */
  readonly minimalChecked: SpreadStats & { readonly ratio: number };
  /** First infer event after INIT, and the warm median after it (ms), in the layout; `run` is the session.run inside them. */
  readonly firstAfterInit: FirstAndWarm & { readonly run: FirstAndWarm };
  /** bench/first-request.js: the first inferResponse after a load, without and with the warm-up. */
  readonly firstRequest: {
    readonly withoutWarmUp: { readonly firstMs: number; readonly warmMs: number };
    readonly withWarmUp: { readonly firstMs: number; readonly warmMs: number };
  };
}

export interface FirstAndWarm {
  readonly firstMs: number;
  readonly warmMs: number;
  /** firstMs / warmMs. */
  readonly ratio: number;
}

function firstAndWarm(firstMs: number, warmMs: number): FirstAndWarm {
  return { firstMs: round(firstMs, 3), warmMs: round(warmMs, 3), ratio: round(firstMs / warmMs, 3) };
}

export function spread(samples: readonly number[]): SpreadStats {
  return {
    runs: samples.length,
    medianMs: round(median(samples), 1),
    p90Ms: round(quantile(samples, 0.9), 1),
    samplesMs: samples.map((s) => round(s, 1)),
  };
}

/** What a runner in `layout` reads: a REST API ready event and infer event for the bench body. */
export function writeEvents(layout: LambdaLayout, model: BenchModel): string {
  const body = requestBodies(model, 1).json.toString('utf8');
  // The events API Gateway sends for the model's resources, as the pre-traffic check builds them.
  const ready = restProxyEvent('GET', '/v2/health/ready', null, 'bench', 'prod');
  const infer = restProxyEvent('POST', `/v2/models/${model.name}/infer`, body, 'bench', 'prod');
  const file = join(layout.root, 'events.json');
  writeFileSync(file, JSON.stringify({ ready, infer }));
  copyFileSync(join(__dirname, 'lambda-runner.js'), join(layout.root, 'lambda-runner.js'));
  for (const script of ['minimal-cold.js', 'minimal-checked-cold.js']) copyFileSync(join(__dirname, script), join(layout.root, script));
  return file;
}

function runIn(layout: LambdaLayout, model: BenchModel, script: string, args: readonly string[]) {
  return spawnNode(join(layout.root, script), args, lambdaProcessEnv(layout, model.name));
}

/** Where INIT's time went, from the handler's 'model loaded' log line (ms). */
export interface InitSplit {
  readonly readMs: number;
  readonly hashMs: number;
  readonly sessionMs: number;
  readonly warmUpMs: number;
}

export async function coldLambda(layout: LambdaLayout, model: BenchModel, events: string): Promise<{ ms: number; init?: InitSplit }> {
  const t0 = performance.now();
  const child = runIn(layout, model, 'lambda-runner.js', ['cold', events]);
  let init: InitSplit | undefined;
  const status = await waitForLine(
    child,
    (l) => {
      if (l.includes('"model loaded"')) {
        const logged = JSON.parse(l) as { load: Omit<InitSplit, 'warmUpMs'>; warmUp: { durationMs: number } };
        init = { ...logged.load, warmUpMs: logged.warmUp.durationMs };
      }
      return /^answered (\d+)$/.exec(l)?.[1];
    },
    120_000,
    'lambda-runner cold',
  );
  const ms = performance.now() - t0;
  await waitExit(child);
  if (status !== '200') throw new Error(`the Lambda layout answered the first event with ${status}`);
  return { ms, init };
}

/** Spawn -> `done` of a baseline script in the layout: bench/minimal-cold.js, or bench/minimal-checked-cold.js when `checked`. */
export async function coldLambdaMinimal(layout: LambdaLayout, model: BenchModel, checked = false): Promise<number> {
  const packageDir = join(layout.task, 'model');
  const script = checked ? 'minimal-checked-cold.js' : 'minimal-cold.js';
  const args = checked ? [packageDir] : [join(packageDir, 'model.onnx'), model.inputName, String(model.features)];
  const t0 = performance.now();
  const child = runIn(layout, model, script, args);
  await waitForLine(child, (l) => (l.startsWith('done') ? true : undefined), 120_000, `${script} (Lambda layout)`);
  const ms = performance.now() - t0;
  const code = await waitExit(child);
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return ms;
}

interface RunnerResult {
  readonly firstMs: number;
  readonly warmMs: number[];
  /** lambda-runner's warm mode only: the session.run of each event, first then warm. */
  readonly runMs?: number[];
}

async function jsonLine(child: ReturnType<typeof spawnNode>, what: string): Promise<RunnerResult> {
  // The handler's own logs are JSON lines on stdout too: the result is the one line marked as such.
  const line = await waitForLine(child, (l) => (l.startsWith('result ') ? l.slice('result '.length) : undefined), 120_000, what);
  await waitExit(child);
  return JSON.parse(line) as RunnerResult;
}

export async function benchLambdaCold(model: BenchModel, repeats = 7): Promise<LambdaColdFigures> {
  const outdir = mkdtempSync(join(tmpdir(), 'modelship-bench-cdk-'));
  const layout = synthLambdaLayout(model.dir, outdir);
  try {
    const events = writeEvents(layout, model);
    const bar = progress(`P3L Lambda layout (${repeats} x 3 cold runs, then warm)`, repeats + 3);
    await coldLambda(layout, model, events);
    await coldLambdaMinimal(layout, model);
    await coldLambdaMinimal(layout, model, true);
    bar.tick();
    const ms: number[] = [];
    const min: number[] = [];
    const checked: number[] = [];
    const sides = [
      async () => ms.push((await coldLambda(layout, model, events)).ms),
      async () => min.push(await coldLambdaMinimal(layout, model)),
      async () => checked.push(await coldLambdaMinimal(layout, model, true)),
    ];
    for (let i = 0; i < repeats; i++) {
      // Each side goes first, second and third in turn.
      for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]();
      bar.tick();
    }
    // One first event per process: the median over `repeats` processes, as the first-request rows do.
    const inLayoutRuns: RunnerResult[] = [];
    for (let i = 0; i < repeats; i++) {
      inLayoutRuns.push(await jsonLine(runIn(layout, model, 'lambda-runner.js', ['warm', events, '50']), 'lambda-runner warm'));
    }
    const runsOf = (r: RunnerResult) => r.runMs ?? [];
    const inLayout = {
      first: firstAndWarm(median(inLayoutRuns.map((r) => r.firstMs)), median(inLayoutRuns.flatMap((r) => r.warmMs))),
      run: firstAndWarm(median(inLayoutRuns.map((r) => runsOf(r)[0])), median(inLayoutRuns.flatMap((r) => runsOf(r).slice(1)))),
    };
    bar.tick();
    const bodyFile = join(layout.root, 'body.json');
    writeFileSync(bodyFile, requestBodies(model, 1).json);
    const firstOf = async (mode: 'warm' | 'none') => {
      const runs: RunnerResult[] = [];
      for (let i = 0; i < repeats; i++) {
        runs.push(await jsonLine(spawnNode(join(__dirname, 'first-request.js'), [model.dir, mode, bodyFile, '50']), 'first-request'));
      }
      return { firstMs: round(median(runs.map((r) => r.firstMs)), 3), warmMs: round(median(runs.flatMap((r) => r.warmMs)), 3) };
    };
    const withoutWarmUp = await firstOf('none');
    const withWarmUp = await firstOf('warm');
    bar.tick();
    bar.stop();
    return {
      repeats,
      memorySize: layout.memorySize,
      handlerBundleBytes: statSync(join(layout.task, 'index.js')).size,
      modelship: { ...spread(ms), ratio: round(median(ms) / median(min), 3) },
      minimal: spread(min),
      minimalChecked: { ...spread(checked), ratio: round(median(checked) / median(min), 3) },
      firstAfterInit: { ...inLayout.first, run: inLayout.run },
      firstRequest: { withoutWarmUp, withWarmUp },
    };
  } finally {
    layout.remove();
    rmSync(outdir, { recursive: true, force: true });
  }
}
