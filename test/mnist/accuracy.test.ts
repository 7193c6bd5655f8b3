/**
 * The seed workflow's claim, reproduced through the real HTTP path: the committed mnist-mlp package,
 * served by the local server, classifies the held-out digits (never seen in training) with accuracy >= 0.92.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { readManifest } from '../../lib/package/manifest';
import { verifyPackage } from '../../lib/package/verify';
import { decodeInferResponse, encodeInferRequest } from '../../lib/protocol/client-codec';

const ROOT = join(__dirname, '..', '..');
const PACKAGE = join(ROOT, 'models', 'mnist-mlp');
const KEY = 'mnist-accuracy-test-key-0123456789';

interface EvalSet {
  split: string;
  count: number;
  labels: number[];
  pixels: string;
}

const evalSet = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'mnist-eval.json'), 'utf8')) as EvalSet;
const pixels = Buffer.from(evalSet.pixels, 'base64');

function images(from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * 784);
  for (let i = 0; i < out.length; i++) out[i] = pixels[from * 784 + i] / 255;
  return out;
}

let running: RunningServer;

beforeAll(async () => {
  running = await startServer({
    dirs: [PACKAGE],
    port: 0,
    config: {
      plans: { p: { rateLimit: 1e6, burstLimit: 1e6 } },
      apiKeys: [{ name: 'test', value: KEY, plan: 'p', enabled: true }],
      maxBodyBytes: 10 * 1024 * 1024,
    },
  });
});
afterAll(() => running.close());

test('the committed package verifies: schema, sha256 and golden samples', async () => {
  const report = await verifyPackage(PACKAGE);
  expect(report.problems).toEqual([]);
  expect(readManifest(PACKAGE)).toMatchObject({
    name: 'mnist-mlp',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
  });
});

test('the eval set is the held-out one the README describes', () => {
  expect(evalSet.count).toBeGreaterThanOrEqual(1000);
  expect(evalSet.labels).toHaveLength(evalSet.count);
  expect(pixels.byteLength).toBe(evalSet.count * 784);
});

test('classifies the held-out digits through HTTP with accuracy >= 0.92', async () => {
  const batch = 100;
  let correct = 0;
  for (let from = 0; from < evalSet.count; from += batch) {
    const to = Math.min(from + batch, evalSet.count);
    // Alternate JSON and binary requests: both paths must give the same model the same digits.
    const binary = (from / batch) % 2 === 1;
    const req = encodeInferRequest([{ name: 'input', datatype: 'FP32', shape: [to - from, 784], data: images(from, to) }], {
      binaryInputs: binary,
      binaryOutputs: binary,
    });
    const res = await fetch(`${running.url}/v2/models/mnist-mlp/infer`, {
      method: 'POST',
      headers: { ...req.headers, 'x-api-key': KEY },
      body: req.body,
    });
    expect(res.status).toBe(200);
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    const probs = decodeInferResponse(Buffer.from(await res.arrayBuffer()), headers).outputs[0].data as Float32Array;
    for (let i = 0; i < to - from; i++) {
      const row = probs.subarray(i * 10, i * 10 + 10);
      const predicted = row.indexOf(Math.max(...row));
      if (predicted === evalSet.labels[from + i]) correct++;
    }
  }
  const accuracy = correct / evalSet.count;
  process.stdout.write(`mnist-mlp held-out accuracy through HTTP: ${correct}/${evalSet.count} = ${accuracy.toFixed(4)}\n`);
  expect(accuracy).toBeGreaterThanOrEqual(0.92);
});
