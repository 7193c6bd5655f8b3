/**
 * P5: compression of the example models. Each method runs as its command would (compressPackage, into
 * a temp directory): prune at sparsity 0.5 with its default 3 epochs of fine-tune, and distill to a
 * student of at most 15% of the teacher (STUDENTS), both on the 8,495 training digits. Every figure is quoted beside fp32 on the 1,505 held-out
 * digits: bytes, latency at batch 1 and 64 through the serving engine, accuracy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressPackage, type CompressContext, type Compressed, type CompressionMethod } from '../lib/compress/compress-package';
import { distillModel } from '../lib/compress/distill';
import { optimizeModel } from '../lib/compress/optimize';
import { pruneModel } from '../lib/compress/prune';
import { quantizeModel } from '../lib/compress/quantize';
import { digitsJsonl, loadSplit } from '../scripts/mnist-training';
import { round } from './common';

export interface CompressionFigures {
  readonly model: string;
  readonly method: CompressionMethod;
  readonly bytes: number;
  readonly baseBytes: number;
  readonly bytesRatio: number;
  readonly batch1Ms: number;
  readonly baseBatch1Ms: number;
  readonly batch64Ms: number;
  readonly baseBatch64Ms: number;
  readonly accuracy: number;
  readonly baseAccuracy: number;
  /** Percentage points lost (negative: gained). */
  readonly accuracyDrop: number;
  readonly sessionCreateMs: number;
  readonly baseSessionCreateMs: number;
}

/** The targets: the most bytes relative to fp32, the most accuracy lost, and for int8-dynamic, batch-64 latency no worse. */
export const P5_TARGETS: Partial<Record<CompressionMethod, { bytes: number; drop: number; latency64?: boolean }>> = {
  'int8-weights': { bytes: 0.3, drop: 0.5 },
  'int8-dynamic': { bytes: 0.3, drop: 0.5, latency64: true },
  fp16: { bytes: 0.52, drop: 0.1 },
  prune: { bytes: 0.55, drop: 1.0 },
  distill: { bytes: 0.15, drop: 1.5 },
};

/** Each model's student: at most 15% of its teacher (mnist-cnn is 75 KB, a quarter of mnist-mlp). */
const STUDENTS: Record<string, string> = { 'mnist-mlp': 'pool:2;dense:48', 'mnist-cnn': 'pool:2;dense:12' };

/** The methods, as the README's commands run them; the training ones learn from the 8,495 training digits. */
function methods(model: string, trainFile: string): ReadonlyArray<[CompressionMethod, (c: CompressContext) => Promise<Compressed>]> {
  return [
    ['optimize', (c) => optimizeModel(c, 'basic')],
    ['int8-weights', (c) => quantizeModel(c, 'int8-weights')],
    ['int8-dynamic', (c) => quantizeModel(c, 'int8-dynamic')],
    ['fp16', (c) => quantizeModel(c, 'fp16')],
    ['prune', (c) => pruneModel(c, { sparsity: 0.5, data: trainFile })],
    ['distill', (c) => distillModel(c, { student: STUDENTS[model], data: trainFile })],
  ];
}

export async function benchCompression(modelsDir: string): Promise<CompressionFigures[]> {
  const work = mkdtempSync(join(tmpdir(), 'modelship-p5-'));
  try {
    const split = loadSplit();
    const evalFile = join(work, 'held-out.jsonl');
    const trainFile = join(work, 'train.jsonl');
    writeFileSync(evalFile, digitsJsonl(split.evalSet));
    writeFileSync(trainFile, digitsJsonl(split.train));
    (await import('@tensorflow/tfjs')).env().set('PROD', true);
    const figures: CompressionFigures[] = [];
    for (const model of ['mnist-mlp', 'mnist-cnn']) {
      for (const [method, make] of methods(model, trainFile)) {
        // No gate: the bench reports figures, and a method that misses its target is a row, not an error.
        const r = await compressPackage(
          method,
          {
            base: join(modelsDir, model),
            out: join(work, `${model}-${method}`),
            eval: evalFile,
            latencyBudgetMs: 1500,
            maxAccuracyDrop: 100,
          },
          make,
        );
        const f: CompressionFigures = {
          model,
          method,
          bytes: r.figures.bytes,
          baseBytes: r.baseFigures.bytes,
          bytesRatio: round(r.bytesRatio, 4),
          batch1Ms: round(r.figures.latency.batch1Ms, 4),
          baseBatch1Ms: round(r.baseFigures.latency.batch1Ms, 4),
          batch64Ms: round(r.figures.latency.batch64Ms, 4),
          baseBatch64Ms: round(r.baseFigures.latency.batch64Ms, 4),
          accuracy: round(r.figures.accuracy!, 4),
          baseAccuracy: round(r.baseFigures.accuracy!, 4),
          accuracyDrop: round(r.accuracyDrop!, 2),
          sessionCreateMs: round(r.figures.sessionCreateMs, 2),
          baseSessionCreateMs: round(r.baseFigures.sessionCreateMs, 2),
        };
        process.stderr.write(
          `  ${model} ${method}: ${(f.bytesRatio * 100).toFixed(1)}% bytes, batch 1 ${f.batch1Ms} ms (fp32 ${f.baseBatch1Ms}), batch 64 ${f.batch64Ms} ms (fp32 ${f.baseBatch64Ms}), accuracy ${f.accuracy} (fp32 ${f.baseAccuracy})\n`,
        );
        figures.push(f);
      }
    }
    return figures;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
