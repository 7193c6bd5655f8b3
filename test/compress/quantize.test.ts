/**
 * `quantize` on the example MNIST MLP, each mode run once from the committed package against the 1,505
 * held-out digits: the size and accuracy targets of README.md's "Compression" table, the graph each
 * mode writes (read back from the package), a package that verifies and loads in onnxruntime-node, and
 * a base left as it was.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMPRESSION_REPORT, compressPackage, defaultVersion, type CompressionReport } from '../../lib/compress/compress-package';
import { quantizeModel, type QuantizeMode } from '../../lib/compress/quantize';
import { InferenceEngine } from '../../lib/engine/engine';
import { decodePlainModel, ONNX_TYPE } from '../../lib/onnx/plain-model';
import { sha256 } from '../../lib/package/hash';
import { readManifest } from '../../lib/package/manifest';
import { verifyPackage } from '../../lib/package/verify';
import { ManualClock } from '../helpers/clock';
import { tempDir } from '../helpers/fixtures';
import { writeHeldOutDigits } from './held-out-digits';

jest.setTimeout(120_000);

const MLP = join(__dirname, '..', '..', 'models', 'mnist-mlp');
const work = tempDir('modelship-quantize-');
const evalFile = writeHeldOutDigits(work);

function treeHash(dir: string): string {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  return sha256(Buffer.concat(entries.map((f) => Buffer.concat([Buffer.from(f.slice(dir.length)), readFileSync(f)]))));
}

const baseHash = treeHash(MLP);
const reports = new Map<QuantizeMode, CompressionReport>();

/** Targets from README.md's "Compression" table: the most bytes relative to fp32, and the most accuracy lost. */
const TARGETS: Record<QuantizeMode, { bytes: number; drop: number }> = {
  'int8-weights': { bytes: 0.3, drop: 0.5 },
  'int8-dynamic': { bytes: 0.3, drop: 0.5 },
  fp16: { bytes: 0.52, drop: 0.1 },
};

beforeAll(async () => {
  for (const mode of Object.keys(TARGETS) as QuantizeMode[]) {
    const report = await compressPackage(
      mode,
      { base: MLP, out: join(work, mode), eval: evalFile, clock: new ManualClock(0), latencyBudgetMs: 5 },
      (c) => quantizeModel(c, mode),
    );
    reports.set(mode, report);
  }
});

describe.each(Object.keys(TARGETS) as QuantizeMode[])('%s on mnist-mlp', (mode) => {
  test('within its targets: bytes vs fp32, and held-out accuracy vs fp32, on all 1,505 held-out digits', () => {
    const r = reports.get(mode)!;
    expect(r.evalExamples).toBe(1505);
    expect(r.baseFigures.accuracy).toBeCloseTo(1414 / 1505, 10);
    expect(r.figures.bytes / r.baseFigures.bytes).toBe(r.bytesRatio);
    expect(r.bytesRatio).toBeLessThanOrEqual(TARGETS[mode].bytes);
    expect(r.accuracyDrop).toBeLessThanOrEqual(TARGETS[mode].drop);
    expect(r.accuracyDrop).toBeCloseTo((r.baseFigures.accuracy! - r.figures.accuracy!) * 100, 10);
  });

  test('a new version that verifies, with its lineage, its method and compression.json listed; the base unchanged', async () => {
    const out = join(work, mode);
    const m = readManifest(out);
    const base = readManifest(MLP);
    expect(m.name).toBe('mnist-mlp');
    expect(m.version).toBe(defaultVersion('1.0.0', mode));
    expect(m.derivedFrom).toEqual({ name: 'mnist-mlp', version: '1.0.0', modelSha256: base.model.sha256 });
    expect(m.compression?.method).toBe(mode);
    expect(m.reports).toEqual([COMPRESSION_REPORT]);
    expect(m.labels).toBe('labels.json');
    expect(m.inputs).toEqual(base.inputs);
    expect(m.outputs).toEqual(base.outputs);
    const stored = JSON.parse(readFileSync(join(out, COMPRESSION_REPORT), 'utf8')) as CompressionReport;
    expect(Object.keys(stored)[0]).toBe('gate');
    expect(stored.gate).toBe(`gated: accuracy drop <= 1 pt on ${evalFile}`);
    expect(stored.bytesRatio).toBe(reports.get(mode)!.bytesRatio);
    expect((await verifyPackage(out)).ok).toBe(true);
    expect(treeHash(MLP)).toBe(baseHash);
    expect(readdirSync(dirname(out)).filter((f) => f.includes('.tmp') || f.includes('.old'))).toEqual([]);
  });

  test('the golden samples are re-recorded from the new model, within the reported deviation of the base', async () => {
    const out = join(work, mode);
    const m = readManifest(out);
    const engine = await InferenceEngine.load(out);
    await engine.release();
    const base = JSON.parse(readFileSync(join(MLP, 'samples', '0.response.json'), 'utf8')) as { outputs: Array<{ data: number[] }> };
    const mine = JSON.parse(readFileSync(join(out, m.samples[0].response), 'utf8')) as { outputs: Array<{ data: number[] }> };
    const deviation = Math.max(...mine.outputs[0].data.map((v, i) => Math.abs(v - base.outputs[0].data[i])));
    expect(deviation).toBeLessThanOrEqual(reports.get(mode)!.goldenDeviation);
    if (mode === 'fp16') expect(reports.get(mode)!.goldenDeviation).toBeLessThan(1e-3);
    else expect(reports.get(mode)!.goldenDeviation).toBeGreaterThan(0);
  });
});

test('int8-weights: int8 weights with per-channel scales behind DequantizeLinear; float32 in and out', () => {
  const g = decodePlainModel(readFileSync(join(work, 'int8-weights', 'model.onnx'))).graph;
  const dq = g.node.filter((n) => n.opType === 'DequantizeLinear');
  expect(dq.map((n) => n.input[0]).sort()).toEqual(['classifier/kernel_quantized', 'hidden/kernel_quantized']);
  const init = new Map(g.initializer.map((t) => [t.name, t]));
  expect(init.get('hidden/kernel_quantized')).toMatchObject({ dataType: ONNX_TYPE.INT8, dims: [784, 100] });
  expect(init.get('hidden/kernel_scale')?.dims).toEqual([100]);
  expect(init.has('hidden/kernel')).toBe(false);
  expect(g.input.map((i) => i.type.tensorType.elemType)).toEqual([ONNX_TYPE.FLOAT]);
  expect(g.output.map((o) => o.type.tensorType.elemType)).toEqual([ONNX_TYPE.FLOAT]);
  expect(reports.get('int8-weights')!.quantized).toEqual(['hidden/Gemm', 'classifier/Gemm']);
});

test('int8-dynamic: DynamicQuantizeLinear and MatMulInteger in place of each Gemm, no float weight left', () => {
  const g = decodePlainModel(readFileSync(join(work, 'int8-dynamic', 'model.onnx'))).graph;
  const ops = g.node.map((n) => n.opType);
  expect(ops.filter((o) => o === 'MatMulInteger')).toHaveLength(2);
  expect(ops.filter((o) => o === 'DynamicQuantizeLinear')).toHaveLength(2);
  expect(ops).not.toContain('Gemm');
  const weights = g.initializer.filter((t) => t.dims.length === 2);
  expect(weights.map((t) => t.dataType)).toEqual([ONNX_TYPE.INT8, ONNX_TYPE.INT8]);
});

test('fp16: every float32 initializer stored as float16 behind a Cast to float32', () => {
  const g = decodePlainModel(readFileSync(join(work, 'fp16', 'model.onnx'))).graph;
  expect(g.initializer.map((t) => t.dataType)).toEqual([ONNX_TYPE.FLOAT16, ONNX_TYPE.FLOAT16, ONNX_TYPE.FLOAT16, ONNX_TYPE.FLOAT16]);
  expect(
    g.node
      .filter((n) => n.opType === 'Cast')
      .map((n) => n.output[0])
      .sort(),
  ).toEqual(['classifier/bias', 'classifier/kernel', 'hidden/bias', 'hidden/kernel']);
});

test('the default version tags the method as a prerelease, so @latest stays on the base', () => {
  expect(defaultVersion('1.0.0', 'int8-weights')).toBe('1.0.0-int8');
  expect(defaultVersion('2.1.0-rc.1', 'fp16')).toBe('2.1.0-rc.1.fp16');
  expect(defaultVersion('1.0.0+build.5', 'int8-dynamic')).toBe('1.0.0-int8-dynamic+build.5');
});
