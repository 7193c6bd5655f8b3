/**
 * The project's Keras example end to end: examples/keras-mnist/mnist.keras, trained by real Keras 3
 * (examples/keras-mnist/train.py) on the project's MNIST split, packaged by the built CLI as a user runs it,
 * then measured with onnxruntime on every held-out digit. What it is held to is only what Keras itself
 * recorded in keras-results.json: the same count of correct digits, the same class for every held-out digit,
 * and the same probabilities within 1e-5 for the first 20. The commands and answers the README shows for
 * it are run as printed, so that section cannot drift either.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { startServer } from '../../lib/local/serve';
import { readManifest } from '../../lib/package/manifest';
import { verifyPackage } from '../../lib/package/verify';
import { isolatedCliEnv } from '../helpers/cli-env';
import { tempDir } from '../helpers/fixtures';

const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'bin', 'modelship.js');
const EXAMPLE = join(REPO, 'examples', 'keras-mnist');
const KERAS_FILE = join(EXAMPLE, 'mnist.keras');
const PIXELS = 784;
const CLASSES = 10;

interface KerasResults {
  keras: string;
  kerasFile: { sha256: string };
  split: string;
  heldOut: { count: number; pixelsSha256: string; labelsSha256: string };
  accuracy: number;
  correct: number;
  predicted: string;
  probabilities: { rows: number; data: number[][] };
}

interface EvalFixture {
  split: string;
  count: number;
  labels: number[];
  pixels: string;
}

const results = JSON.parse(readFileSync(join(EXAMPLE, 'keras-results.json'), 'utf8')) as KerasResults;
const fixture = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'mnist-eval.json'), 'utf8')) as EvalFixture;
const pixels = new Uint8Array(Buffer.from(fixture.pixels, 'base64'));
const labels = Uint8Array.from(fixture.labels);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Where the README's commands put the package; the test substitutes a temp dir of its own. */
const README_OUT = '/tmp/mnist-keras';

interface ShownCommand {
  readonly command: string;
  /** The `# ...` lines printed under it: what it answered when the README was written. */
  readonly output: string[];
}

/** The commands in the ```sh blocks of the README's Keras example section, backslash continuations joined. */
function readmeCommands(): ShownCommand[] {
  const markdown = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = markdown.indexOf('\n### Keras end to end: the MNIST example\n');
  if (start === -1) throw new Error("README.md has no '### Keras end to end: the MNIST example' section");
  const end = markdown.slice(start + 1).search(/\n##+ /);
  const section = markdown.slice(start, end === -1 ? undefined : start + 1 + end);
  const commands: ShownCommand[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1].replace(/\\\n\s*/g, '').split('\n')) {
      if (line.startsWith('# ')) commands.at(-1)?.output.push(line.slice(2));
      else if (line.trim() !== '') commands.push({ command: line, output: [] });
    }
  }
  return commands;
}

const shown = readmeCommands();
let out: string;

beforeAll(() => {
  const work = tempDir('keras-mnist-');
  out = join(work, 'mnist-keras');
  const pack = shown.find((c) => c.command.startsWith('node dist/bin/modelship.js package '));
  expect(pack?.output.length).toBeGreaterThan(0);
  const args = pack!.command
    .replace('node dist/bin/modelship.js ', '')
    .split(/\s+/)
    .map((a) => (a === README_OUT ? out : a));
  expect(args).toContain(out);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: REPO, env: isolatedCliEnv(work) });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status).toBe(0);
  expect(r.stdout.trimEnd().split('\n')).toEqual(pack!.output.map((l) => l.replaceAll(README_OUT, out)));
});

test('the committed mnist.keras is the file Keras measured, and the manifest records it as the source', () => {
  const fileSha = sha256(readFileSync(KERAS_FILE));
  // Re-running train.py changes mnist.keras's bytes (Keras stamps the save time), so both files must be committed together.
  expect(fileSha).toBe(results.kerasFile.sha256);
  const manifest = readManifest(out);
  expect(manifest.source).toEqual({ format: 'keras', container: 'keras', kerasVersion: results.keras, sha256: fileSha });
  expect(manifest.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, PIXELS] }]);
  expect(manifest.outputs).toEqual([{ name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] }]);
});

test('Keras was measured on exactly the held-out digits of the project fixture', () => {
  expect(fixture.split).toBe(results.split);
  expect(fixture.count).toBe(results.heldOut.count);
  expect(sha256(pixels)).toBe(results.heldOut.pixelsSha256);
  expect(sha256(labels)).toBe(results.heldOut.labelsSha256);
});

test('onnxruntime on the packaged model classifies every held-out digit as Keras did, with Keras probabilities', async () => {
  const manifest = readManifest(out);
  const session = await ort.InferenceSession.create(join(out, manifest.model.file));
  let probs: Float32Array;
  try {
    // float32(uint8 / 255), the division in double as train.py does it.
    const x = Float32Array.from(pixels, (v) => v / 255);
    const result = await session.run({ input: new ort.Tensor('float32', x, [fixture.count, PIXELS]) });
    probs = result.probabilities.data as Float32Array;
  } finally {
    await session.release();
  }
  expect(probs).toHaveLength(fixture.count * CLASSES);

  let correct = 0;
  let predicted = '';
  for (let r = 0; r < fixture.count; r++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (probs[r * CLASSES + c] > probs[r * CLASSES + best]) best = c;
    predicted += String(best);
    if (best === labels[r]) correct++;
  }
  expect(correct).toBe(results.correct);
  expect(correct / fixture.count).toBe(results.accuracy);
  // The same count could hide two digits traded; Keras's class for every digit rules that out.
  expect(predicted).toBe(results.predicted);

  expect(results.probabilities.data).toHaveLength(results.probabilities.rows);
  let maxDiff = 0;
  results.probabilities.data.forEach((row, r) => {
    expect(row).toHaveLength(CLASSES);
    row.forEach((p, c) => (maxDiff = Math.max(maxDiff, Math.abs(p - probs[r * CLASSES + c]))));
  });
  expect(maxDiff).toBeLessThanOrEqual(1e-5);
});

test('the package verifies, its golden sample re-run', async () => {
  const report = await verifyPackage(out);
  expect(report.problems).toEqual([]);
  expect(report.samplesChecked).toBe(1);
});

test("the README's curl examples for it answer as printed, with the key serve generates", async () => {
  const curls = shown.filter((c) => c.command.startsWith('curl '));
  expect(curls.length).toBeGreaterThanOrEqual(2);
  const running = await startServer({ dirs: [out], port: 0 });
  try {
    for (const { command, output } of curls) {
      const local = command.replaceAll('http://127.0.0.1:8080', running.url).replaceAll(README_OUT, out);
      const { stdout } = await promisify(execFile)('bash', ['-c', local], {
        cwd: REPO,
        env: { PATH: process.env.PATH ?? '', KEY: running.devKey! },
        encoding: 'utf8',
      });
      expect({ command, answer: stdout }).toEqual({ command, answer: output.join('\n') });
    }
  } finally {
    await running.close();
  }
});
