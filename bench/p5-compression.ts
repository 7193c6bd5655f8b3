/**
 * P5: compression of the example models. Each method runs as `modelship optimize` / `quantize` would
 * (compressPackage, into a temp directory), on the 1,505 held-out digits, and the report's figures are
 * quoted beside fp32: bytes, latency at batch 1 and 64 through the serving engine, held-out accuracy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressPackage, type CompressContext, type Compressed, type CompressionMethod } from '../lib/compress/compress-package';
import { optimizeModel } from '../lib/compress/optimize';
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
};

const METHODS: ReadonlyArray<[CompressionMethod, (c: CompressContext) => Promise<Compressed>]> = [
  ['optimize', (c) => optimizeModel(c, 'basic')],
  ['int8-weights', (c) => quantizeModel(c, 'int8-weights')],
  ['int8-dynamic', (c) => quantizeModel(c, 'int8-dynamic')],
  ['fp16', (c) => quantizeModel(c, 'fp16')],
];

export async function benchCompression(modelsDir: string): Promise<CompressionFigures[]> {
  const work = mkdtempSync(join(tmpdir(), 'modelship-p5-'));
  try {
    const evalFile = join(work, 'held-out.jsonl');
    writeFileSync(evalFile, digitsJsonl(loadSplit().evalSet));
    const figures: CompressionFigures[] = [];
    for (const model of ['mnist-mlp', 'mnist-cnn']) {
      for (const [method, make] of METHODS) {
        const r = await compressPackage(
          method,
          { base: join(modelsDir, model), out: join(work, `${model}-${method}`), eval: evalFile, latencyBudgetMs: 1500 },
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
