/**
 * `npm run bench -- --cold-start-sizes`: cold starts of onnxruntime-node by model size. Synthetic MLPs of
 * about 5, 50 and 200 MB (mnist-mlp's signature, two wide hidden layers, seeded weights) are packaged, then
 * for each one, alternating:
 * - serve: spawn of `modelship serve` -> the first 200 to a batch-1 JSON infer (bench/p3-cold-start.ts);
 * - Lambda layout: the synthesized LambdaModel asset at /var/task + /opt, spawn -> INIT -> first event
 *   answered (bench/p3l-lambda-cold.ts).
 * Median and p90 of `repeats` runs each, after one unmeasured run of each, and the median of where the
 * Lambda INIT's time went (model read, sha256, session, warm-up), from the handler's 'model loaded' log line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPackage } from '../lib/package/create';
import { median, progress, round } from './common';
import { synthLambdaLayout } from './lambda-layout';
import { type BenchModel, benchModelAt, syntheticMlpOnnx } from './model';
import { coldModelship } from './p3-cold-start';
import { coldLambda, type InitSplit, spread, type SpreadStats, writeEvents } from './p3l-lambda-cold';

/** Hidden widths h for 784 -> h -> h -> 10, so that the fp32 weights come to about 5, 50 and 200 MB. */
export const COLD_START_SIZES = [
  { label: '5 MB', hidden: 800 },
  { label: '50 MB', hidden: 3150 },
  { label: '200 MB', hidden: 6680 },
] as const;

export interface SizeColdFigures {
  readonly label: string;
  readonly modelBytes: number;
  readonly memorySize: number;
  readonly serve: SpreadStats;
  readonly lambda: SpreadStats;
  /** Medians over the Lambda runs of where INIT's time went, as the handler logs it. */
  readonly lambdaInit?: InitSplit;
}

export async function benchColdStartSizes(repeats = 7): Promise<SizeColdFigures[]> {
  const cli = join(__dirname, '..', 'bin', 'modelship.js');
  const work = mkdtempSync(join(tmpdir(), 'modelship-bench-sizes-'));
  const figures: SizeColdFigures[] = [];
  try {
    for (const size of COLD_START_SIZES) {
      const name = `mlp-${size.label.replace(/\s/g, '').toLowerCase()}`;
      const modelPath = join(work, `${name}.onnx`);
      writeFileSync(modelPath, syntheticMlpOnnx([size.hidden, size.hidden], 7));
      const dir = join(work, name);
      await createPackage({ modelPath, name, version: '1.0.0', outDir: dir, description: `bench: ${size.label} synthetic MLP` });
      rmSync(modelPath);
      const model: BenchModel = benchModelAt(dir);
      const outdir = mkdtempSync(join(tmpdir(), 'modelship-bench-cdk-'));
      const layout = synthLambdaLayout(dir, outdir);
      try {
        const events = writeEvents(layout, model);
        const bar = progress(`cold start, ${size.label} (${repeats} x 2 runs)`, repeats + 1);
        await coldModelship(model, cli);
        await coldLambda(layout, model, events);
        bar.tick();
        const serve: number[] = [];
        const lambda: number[] = [];
        const splits: InitSplit[] = [];
        for (let i = 0; i < repeats; i++) {
          const a = async () => serve.push((await coldModelship(model, cli)).total);
          const b = async () => {
            const r = await coldLambda(layout, model, events);
            lambda.push(r.ms);
            if (r.init) splits.push(r.init);
          };
          if (i % 2 === 0) await a().then(b);
          else await b().then(a);
          bar.tick();
        }
        bar.stop();
        figures.push({
          label: size.label,
          modelBytes: model.modelBytes,
          memorySize: layout.memorySize,
          serve: spread(serve),
          lambda: spread(lambda),
          ...(splits.length
            ? {
                lambdaInit: {
                  readMs: round(median(splits.map((x) => x.readMs)), 1),
                  hashMs: round(median(splits.map((x) => x.hashMs)), 1),
                  sessionMs: round(median(splits.map((x) => x.sessionMs)), 1),
                  warmUpMs: round(median(splits.map((x) => x.warmUpMs)), 1),
                },
              }
            : {}),
        });
      } finally {
        layout.remove();
        rmSync(outdir, { recursive: true, force: true });
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return figures.map((f) => ({ ...f, modelBytes: round(f.modelBytes, 0) }));
}
