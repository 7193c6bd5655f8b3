/**
 * `optimize` on the example CNN: onnxruntime's basic level writes only standard ONNX ops (the
 * portable choice), extended adds onnxruntime's own fused ops, and both packages answer as the base
 * does, with session creation reported before and after.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressPackage } from '../../lib/compress/compress-package';
import { optimizeModel } from '../../lib/compress/optimize';
import { decodePlainModel } from '../../lib/onnx/plain-model';
import { readManifest } from '../../lib/package/manifest';
import { verifyPackage } from '../../lib/package/verify';
import { tempDir } from '../helpers/fixtures';

jest.setTimeout(120_000);

const CNN = join(__dirname, '..', '..', 'models', 'mnist-cnn');

test.each([
  ['basic', []],
  ['extended', ['com.microsoft']],
] as const)(
  'level %s: a package that verifies, with ops of %j beyond the standard domain, answering as the base',
  async (level, domains) => {
    const out = join(tempDir(), level);
    const report = await compressPackage('optimize', { base: CNN, out, latencyBudgetMs: 5, maxGoldenDeviation: 1e-5 }, (c) =>
      optimizeModel(c, level),
    );
    const nodes = decodePlainModel(readFileSync(join(out, 'model.onnx'))).graph.node;
    expect([...new Set(nodes.map((n) => n.domain ?? '').filter((d) => d !== ''))]).toEqual(domains);
    expect(report.details?.nonStandardDomains).toEqual(domains);
    expect(report.goldenDeviation).toBeLessThanOrEqual(1e-5);
    expect(report.baseFigures.sessionCreateMs).toBeGreaterThan(0);
    expect(report.figures.sessionCreateMs).toBeGreaterThan(0);
    expect(report.gate).toBe('gated: golden deviation <= 0.00001');
    const m = readManifest(out);
    expect(m.version).toBe('1.0.0-optimized');
    expect(m.compression).toEqual({ method: 'optimize', parameters: { level } });
    expect(m.preprocess).toEqual(readManifest(CNN).preprocess);
    expect((await verifyPackage(out)).ok).toBe(true);
  },
);
