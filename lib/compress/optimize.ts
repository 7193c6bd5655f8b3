/**
 * `modelship optimize`: onnxruntime's offline graph optimization, saved through the
 * `optimizedModelFilePath` session option. The default level, basic, only folds constants and removes
 * redundant nodes, so its output holds standard ONNX ops and loads on any CPU and in Triton's
 * onnxruntime backend. extended adds onnxruntime's own fused ops (com.microsoft FusedGemm, FusedConv),
 * which only onnxruntime runs; the level above that (layout, NCHWc) is tied to the CPU it ran on, and
 * onnxruntime itself warns that such a file belongs to the machine that wrote it, so it is not offered.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodePlainModel } from '../onnx/plain-model';
import type { CompressContext, Compressed } from './compress-package';
import { CompressionError } from './errors';

export type OptimizeLevel = 'basic' | 'extended';
export const OPTIMIZE_LEVELS: readonly OptimizeLevel[] = ['basic', 'extended'];

export async function optimizeModel(context: CompressContext, level: OptimizeLevel = 'basic'): Promise<Compressed> {
  if (!OPTIMIZE_LEVELS.includes(level)) throw new CompressionError(`--level ${String(level)}: choose ${OPTIMIZE_LEVELS.join(' or ')}`);
  const path = join(context.workDir, 'optimized.onnx');
  const session = await ort.InferenceSession.create(context.bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: level,
    optimizedModelFilePath: path,
  });
  await session.release();
  const bytes = await readFile(path);
  const model = decodePlainModel(bytes);
  const domains = [...new Set(model.graph.node.map((n) => n.domain ?? '').filter((d) => d !== ''))];
  if (level === 'basic' && domains.length > 0)
    throw new CompressionError(
      `onnxruntime's basic level wrote ops of ${domains.join(', ')}, which would not be portable; nothing was written`,
    );
  return {
    bytes,
    parameters: { level },
    details: {
      nodes: { before: decodePlainModel(context.bytes).graph.node.length, after: model.graph.node.length },
      nonStandardDomains: domains,
    },
  };
}
