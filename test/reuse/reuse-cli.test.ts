/**
 * `modelship finetune` and `modelship extract` as a user runs them: the report they print, and bad
 * input ending in one `modelship:` line with exit 1 (2 for a command line that cannot work), no stack
 * trace and nothing written.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../lib/package/manifest';
import { isolatedCliEnv } from '../helpers/cli-env';
import { tempDir } from '../helpers/fixtures';
import { writeDigitData } from './digit-data';

const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');
const MODELS = join(__dirname, '..', '..', 'models');

function cli(...args: string[]) {
  const home = tempDir();
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: isolatedCliEnv(home) });
}

test('finetune prints what it trained, the eval accuracy of the base and of the result, and where the report is', () => {
  const dir = tempDir();
  const { data, eval: evalFile } = writeDigitData(dir);
  const out = join(dir, 'tuned');
  const r = cli(
    'finetune',
    join(MODELS, 'mnist-mlp'),
    '--data',
    data,
    '--eval',
    evalFile,
    '--name',
    'mnist-mlp',
    '--version',
    '1.1.0',
    '--out',
    out,
    '--train-last',
    '1',
    '--epochs',
    '2',
  );
  expect(r.stderr).toMatch(/^epoch 1\/2: loss \d\.\d{4} \| eval loss \d\.\d{4}, accuracy \d\.\d{4}\nepoch 2\/2: /);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^fine-tuned mnist-mlp@1\.0\.0 into mnist-mlp@1\.1\.0 in /);
  expect(r.stdout).toMatch(/trained classifier\/Gemm; frozen hidden\/Gemm/);
  expect(r.stdout).toMatch(/100 examples, 2 of 2 epochs \(best 2\), batch 32, learning rate 0\.001, seed 42/);
  const manifest = readManifest(out);
  const metric = manifest.training!.metric;
  expect(r.stdout).toContain(`eval accuracy (200 examples): base ${metric.base!.toFixed(4)} -> ${metric.value.toFixed(4)}`);
});

test('finetune with bad data ends in one modelship: line naming the file and line, exit 1, and writes nothing', () => {
  const dir = tempDir();
  const { eval: evalFile } = writeDigitData(dir);
  writeFileSync(join(dir, 'bad.jsonl'), '{"input": [1, 2, 3], "label": 1}\n');
  const out = join(dir, 'tuned');
  const r = cli(
    'finetune',
    join(MODELS, 'mnist-mlp'),
    '--data',
    join(dir, 'bad.jsonl'),
    '--eval',
    evalFile,
    '--name',
    'x',
    '--version',
    '1.0.0',
    '--out',
    out,
  );
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^modelship: .*bad\.jsonl:1: input 'input' has 3 value\(s\); the model takes 784 \(shape \[784\]\)\n$/);
  expect(existsSync(out)).toBe(false);
});

test('finetune --labels without --new-head is a usage error (exit 2)', () => {
  const dir = tempDir();
  const { data, eval: evalFile } = writeDigitData(dir);
  writeFileSync(join(dir, 'labels.json'), '["a", "b"]');
  const r = cli(
    'finetune',
    join(MODELS, 'mnist-mlp'),
    '--data',
    data,
    '--eval',
    evalFile,
    '--name',
    'x',
    '--version',
    '1.0.0',
    '--out',
    join(dir, 'o'),
    '--labels',
    join(dir, 'labels.json'),
  );
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('modelship: --labels names the classes of a new head; give --new-head too\n');
});

test('extract packages a layer of mnist-cnn and says what it took', () => {
  const out = join(tempDir(), 'features');
  const r = cli('extract', join(MODELS, 'mnist-cnn'), '--output', 'flatten', '--name', 'cnn-features', '--version', '1.0.0', '--out', out);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(
    `extracted flatten/Flatten of mnist-cnn@1.0.0 into cnn-features@1.0.0 in ${out}\n  output: flatten FP32[-1,256]; 1 golden sample(s) recorded\n`,
  );
});

test('Ctrl-C during training exits 130 and leaves no package and no partial output', async () => {
  const dir = tempDir();
  const { data, eval: evalFile } = writeDigitData(dir);
  const out = join(dir, 'tuned');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'finetune',
      join(MODELS, 'mnist-mlp'),
      '--data',
      data,
      '--eval',
      evalFile,
      '--name',
      'x',
      '--version',
      '1.0.0',
      '--out',
      out,
      '--epochs',
      '200',
    ],
    {
      env: isolatedCliEnv(tempDir()),
    },
  );
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/epoch +1\/200/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  expect(code).toBe(130);
  expect(stderr).toMatch(/modelship: interrupted by SIGINT/);
  expect(readdirSync(dir).sort()).toEqual(['eval.jsonl', 'train.jsonl']);
}, 120_000);
