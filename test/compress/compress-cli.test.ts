/**
 * The compression commands as a user runs them: the report they print (the gate line first), the gates
 * (a --max-accuracy-drop 0 that must fail and one that passes, a golden-deviation gate), and bad input,
 * each ending in one `modelship:` line with exit 1 (2 for a command line that cannot work), no stack
 * trace and nothing written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOnnxModel } from '../../lib/convert/onnx-builder';
import { createPackage } from '../../lib/package/create';
import { readManifest } from '../../lib/package/manifest';
import { decodePlainModel, ONNX_TYPE } from '../../lib/onnx/plain-model';
import { seededRandom } from '../../lib/package/seeded-random';
import { isolatedCliEnv } from '../helpers/cli-env';
import { makeAllTypesPackage, makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { writeHeldOutDigits } from './held-out-digits';

jest.setTimeout(120_000);

const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');
const MODELS = join(__dirname, '..', '..', 'models');
const MLP = join(MODELS, 'mnist-mlp');

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: isolatedCliEnv(tempDir()) });
}

const dir = tempDir('modelship-compress-cli-');
const evalFile = writeHeldOutDigits(dir);

/** Nothing in `parent` but what was there: no output, and no staging directory beside it. */
function nothingWritten(parent: string, out: string, before: readonly string[]): void {
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(parent).sort()).toEqual([...before].sort());
}

function expectRefusal(r: ReturnType<typeof cli>, status: number, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('modelship: ')),
  ).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status).toBe(status);
}

test('quantize prints the gate first, then size, latency, session creation, accuracy and golden deviation beside the base', () => {
  const out = join(dir, 'q8');
  const r = cli('quantize', MLP, '--mode', 'int8-dynamic', '--out', out, '--eval', evalFile);
  expect(r.stderr).toContain('int8-dynamic: measuring');
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toBe(`gated: accuracy drop <= 1 pt on ${evalFile}`);
  expect(lines[1]).toBe(`int8-dynamic: mnist-mlp@1.0.0 -> mnist-mlp@1.0.0-int8-dynamic in ${out}`);
  expect(lines[2]).toMatch(/^ {2}size +311\.1 KiB -> \d+\.\d KiB \(2\d\.\d%\)$/);
  expect(lines[3]).toMatch(/^ {2}latency +batch 1 [\d.]+ ms -> [\d.]+ ms; batch 64 [\d.]+ ms -> [\d.]+ ms$/);
  expect(lines[4]).toMatch(/^ {2}session +created in [\d.]+ ms -> [\d.]+ ms$/);
  expect(lines[5]).toMatch(/^ {2}accuracy +0\.\d{4} -> 0\.\d{4} on 1505 examples \([-+]\d\.\d\d pt\)$/);
  expect(lines[6]).toMatch(/^ {2}golden +largest deviation from the base's answers [\d.e-]+$/);
  expect(lines[7]).toBe('  rewritten    hidden/Gemm, classifier/Gemm');
  expect(lines.at(-1)).toBe(`  report       ${join(out, 'compression.json')}`);
  expect(readManifest(out).version).toBe('1.0.0-int8-dynamic');
});

test('without --eval and --max-golden-deviation nothing is gated, and the first line says so', () => {
  const out = join(dir, 'ungated');
  const r = cli('quantize', MLP, '--mode', 'fp16', '--out', out, '--name', 'mnist-mlp-small', '--version', '3.0.0');
  expect(r.status).toBe(0);
  expect(r.stdout.split('\n')[0]).toBe(
    'NOT GATED: no --eval and no --max-golden-deviation were given, so nothing checked this model against the base',
  );
  const m = readManifest(out);
  expect([m.name, m.version]).toEqual(['mnist-mlp-small', '3.0.0']);
  expect((JSON.parse(readFileSync(join(out, 'compression.json'), 'utf8')) as { gate: string }).gate).toMatch(/^NOT GATED/);
});

describe('the accuracy gate', () => {
  test('--max-accuracy-drop 0 refuses int8-dynamic, which loses one of the 1,505 held-out digits: exit 1, the figures, nothing written', () => {
    const out = join(dir, 'refused');
    const before = readdirSync(dir);
    const r = cli('quantize', MLP, '--mode', 'int8-dynamic', '--out', out, '--eval', evalFile, '--max-accuracy-drop', '0');
    expectRefusal(
      r,
      1,
      /^modelship: int8-dynamic refused: accuracy on .* fell 0\.07 pt \(base 0\.9395, int8-dynamic 0\.9389\), more than --max-accuracy-drop 0; nothing was written$/m,
    );
    nothingWritten(dir, out, before);
  });

  test('--max-accuracy-drop 0 lets fp16 through, which loses none', () => {
    const out = join(dir, 'fp16-exact');
    const r = cli('quantize', MLP, '--mode', 'fp16', '--out', out, '--eval', evalFile, '--max-accuracy-drop', '0');
    expect(r.stderr).not.toContain('modelship:');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/accuracy +(0\.\d{4}) -> \1 on 1505 examples \(-0\.00 pt\)/);
  });

  test('--max-golden-deviation refuses a model whose golden answers moved more than allowed', () => {
    const out = join(dir, 'golden-refused');
    const before = readdirSync(dir);
    const r = cli('quantize', MLP, '--mode', 'int8-weights', '--out', out, '--max-golden-deviation', '1e-9');
    expectRefusal(
      r,
      1,
      /^modelship: int8-weights refused: the golden samples deviate by up to [\d.e-]+, more than --max-golden-deviation 1e-9; nothing was written$/m,
    );
    nothingWritten(dir, out, before);
  });
});

describe('bad input', () => {
  test('a model with nothing to quantize (no MatMul, Gemm or Conv) gets a clear message, and nothing is written', async () => {
    const parent = tempDir();
    const pkg = await makeAllTypesPackage(parent);
    const out = join(parent, 'q');
    const before = readdirSync(parent);
    const r = cli('quantize', pkg.dir, '--mode', 'int8-weights', '--out', out);
    expectRefusal(
      r,
      1,
      /^modelship: the model has no MatMul, Gemm or Conv node, so int8-weights has nothing to quantize; nothing was written$/m,
    );
    nothingWritten(parent, out, before);
  });

  test('a MatMul whose weight is computed stays in float and is listed in the report; the Gemm beside it is quantized', async () => {
    const parent = tempDir();
    const modelPath = join(parent, 'mixed.onnx');
    const w = Float32Array.from({ length: 16 }, (_, i) => (i - 8) / 8);
    writeFileSync(
      modelPath,
      encodeOnnxModel({
        name: 'mixed',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 4] }],
        initializers: [
          { name: 'W', dims: [4, 4], data: w },
          { name: 'V', dims: [4, 4], data: w.map((v) => -v) },
        ],
        nodes: [
          { opType: 'Gemm', inputs: ['x', 'W'], outputs: ['h'], name: 'dense' },
          { opType: 'Identity', inputs: ['V'], outputs: ['V_copy'], name: 'copy' },
          { opType: 'MatMul', inputs: ['h', 'V_copy'], outputs: ['y'], name: 'computed' },
        ],
      }),
    );
    const base = join(parent, 'mixed-pkg');
    await createPackage({ modelPath, name: 'mixed', version: '1.0.0', outDir: base });
    const out = join(parent, 'q');
    const r = cli('quantize', base, '--mode', 'int8-dynamic', '--out', out);
    expect(r.stderr).not.toContain('modelship:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("  left float   computed (MatMul): its weight 'V_copy' is computed, not a constant initializer");
    expect(r.stdout).toContain('  rewritten    dense');
    const report = JSON.parse(readFileSync(join(out, 'compression.json'), 'utf8')) as { leftInFloat: unknown[] };
    expect(report.leftInFloat).toEqual([
      { node: 'computed', opType: 'MatMul', reason: "its weight 'V_copy' is computed, not a constant initializer" },
    ]);
    const ops = decodePlainModel(readFileSync(join(out, 'model.onnx'))).graph.node.map((n) => n.opType);
    expect(ops).toEqual(expect.arrayContaining(['MatMulInteger', 'MatMul']));
  });

  test('--exclude keeps the named node in float; a name the model lacks is refused, naming its nodes', () => {
    const out = join(dir, 'excluded');
    const r = cli('quantize', MLP, '--mode', 'int8-weights', '--out', out, '--exclude', 'classifier/Gemm');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  left float   classifier/Gemm (Gemm): excluded with --exclude');
    expect(r.stdout).toContain('  rewritten    hidden/Gemm\n');
    const bad = cli('quantize', MLP, '--mode', 'int8-weights', '--out', join(dir, 'never'), '--exclude', 'no-such-node');
    expectRefusal(
      bad,
      1,
      /^modelship: --exclude no-such-node: the model has no node of that name; its nodes are: hidden\/Gemm, hidden\/Relu, classifier\/Gemm, classifier\/Softmax$/m,
    );
    expect(existsSync(join(dir, 'never'))).toBe(false);
    const fp16 = cli('quantize', MLP, '--mode', 'fp16', '--out', join(dir, 'never'), '--exclude', 'no-such-node');
    expectRefusal(fp16, 1, /^modelship: --exclude no-such-node: the model has no node of that name/m);
  });

  test('eval data that does not fit the model gets an error naming the file and the line', () => {
    const bad = join(dir, 'bad-eval.jsonl');
    const good = readFileSync(evalFile, 'utf8').split('\n').slice(0, 2);
    writeFileSync(bad, `${good.join('\n')}\n{"input": [0.5, 0.5, 0.5], "label": 1}\n`);
    const out = join(dir, 'bad-eval-out');
    const r = cli('quantize', MLP, '--mode', 'fp16', '--out', out, '--eval', bad);
    expectRefusal(r, 1, new RegExp(`^modelship: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: .*784`, 'm'));
    expect(existsSync(out)).toBe(false);
  });

  test('an unknown --mode, or none, is a usage error (exit 2)', () => {
    const r = cli('quantize', MLP, '--mode', 'int4', '--out', join(dir, 'x'));
    expect(r.stderr).toMatch(/argument 'int4' is invalid. Allowed choices are int8-weights, int8-dynamic, fp16/);
    expect(r.status).toBe(2);
    const none = cli('quantize', MLP, '--out', join(dir, 'x'));
    expect(none.stderr).toMatch(/required option '--mode <mode>' not specified/);
    expect(none.status).toBe(2);
  });

  test('an output that already holds a package is refused without --force, and the base is never written', () => {
    const r = cli('quantize', MLP, '--mode', 'fp16', '--out', join(dir, 'ungated'));
    expectRefusal(r, 1, /already holds a package/);
  });
});

test('a base that does not verify is refused before anything is compressed, naming the problem', async () => {
  const parent = tempDir();
  const pkg = await makeTinyMlpPackage(parent);
  const model = join(pkg.dir, 'model.onnx');
  const bytes = readFileSync(model);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(model, bytes);
  const out = join(parent, 'q');
  const r = cli('quantize', pkg.dir, '--mode', 'fp16', '--out', out);
  expectRefusal(r, 1, /^modelship: the base package .* does not verify, so nothing was compressed:$/m);
  expect(r.stderr).toMatch(/sha256/);
  expect(existsSync(out)).toBe(false);
});

test('fp16 --exclude takes a nameless node by the name the report gives it (OpType_index), and keeps its weight float32', async () => {
  const parent = tempDir();
  const pkg = await makeTinyMlpPackage(parent);
  const out = join(parent, 'fp16');
  const r = cli('quantize', pkg.dir, '--mode', 'fp16', '--exclude', 'MatMul_0', '--out', out);
  expect(r.stderr).not.toContain('modelship:');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('  left float   W (initializer): read by a node excluded with --exclude');
  const types = Object.fromEntries(
    decodePlainModel(readFileSync(join(out, 'model.onnx'))).graph.initializer.map((t) => [t.name, t.dataType]),
  );
  expect(types).toEqual({ W: ONNX_TYPE.FLOAT, b_fp16: ONNX_TYPE.FLOAT16 });
});

test('prune reads the label of CSV --data from --label-column, as it does for --eval', async () => {
  const parent = tempDir();
  const modelPath = join(parent, 'mlp.onnx');
  const random = seededRandom(3);
  const floats = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
  writeFileSync(
    modelPath,
    encodeOnnxModel({
      name: 'small-mlp',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
      outputs: [{ name: 'p', datatype: 'FP32', shape: ['batch', 3] }],
      initializers: [
        { name: 'W1', dims: [4, 8], data: floats(32) },
        { name: 'b1', dims: [8], data: floats(8) },
        { name: 'W2', dims: [8, 3], data: floats(24) },
        { name: 'b2', dims: [3], data: floats(3) },
      ],
      nodes: [
        { opType: 'Gemm', inputs: ['x', 'W1', 'b1'], outputs: ['h'], name: 'dense' },
        { opType: 'Relu', inputs: ['h'], outputs: ['r'], name: 'relu' },
        { opType: 'Gemm', inputs: ['r', 'W2', 'b2'], outputs: ['z'], name: 'head' },
        { opType: 'Softmax', inputs: ['z'], outputs: ['p'], name: 'softmax', attributes: { axis: -1 } },
      ],
    }),
  );
  const base = join(parent, 'base');
  await createPackage({ modelPath, name: 'small-mlp', version: '1.0.0', outDir: base });
  const csv = join(parent, 'data.csv');
  const rows = Array.from({ length: 30 }, (_, i) => [i % 3, (i % 5) / 5, (i % 7) / 7, (i % 3) / 3, 1].join(','));
  writeFileSync(csv, `cls,a,b,c,d\n${rows.join('\n')}\n`);
  const out = join(parent, 'pruned');
  const args = [
    'prune',
    base,
    '--sparsity',
    '0.5',
    '--data',
    csv,
    '--eval',
    csv,
    '--epochs',
    '1',
    '--max-accuracy-drop',
    '100',
    '--out',
    out,
  ];
  const r = cli(...args, '--label-column', 'cls');
  expect(r.stderr).not.toContain('modelship:');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('  pruned       dense 8 -> 4');
  expectRefusal(cli(...args), 1, /^modelship: .*data\.csv: the header has no 'label' column \(--label-column names it\)$/m);
});
