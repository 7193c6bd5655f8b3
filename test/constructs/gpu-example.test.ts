/**
 * The example GPU package, models/mnist-cnn (scripts/train-mnist-cnn.ts): it verifies against its golden
 * sample, it is a gpu target, it classifies the held-out digits of mnist-mlp's split (never seen in
 * training) with accuracy >= 0.94 (mnist-mlp: 0.9395), and its Triton config batches over [28, 28, 1] images.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelPackage } from '../../lib/constructs/model-package';
import { InferenceEngine } from '../../lib/engine/engine';
import { decodeInferRequest } from '../../lib/protocol/decode';
import { verifyPackage } from '../../lib/package/verify';
import { encodeInferRequest } from '../../lib/protocol/client-codec';
import { buildModelConfig } from '../../lib/triton/model-config';

const ROOT = join(__dirname, '..', '..');
const PACKAGE = join(ROOT, 'models', 'mnist-cnn');

interface EvalSet {
  count: number;
  labels: number[];
  pixels: string;
}

test('the package verifies: manifest, sha256 and golden sample', async () => {
  const report = await verifyPackage(PACKAGE);
  expect({ ok: report.ok, problems: report.problems }).toEqual({ ok: true, problems: [] });
  expect(report.samplesChecked).toBe(1);
});

test('a gpu target with an image input and class probabilities out, deployed on SageMaker by default', () => {
  const pkg = ModelPackage.fromDirectory(PACKAGE);
  expect(pkg.manifest.target).toBe('gpu');
  expect(pkg.manifest.gpu).toBeUndefined();
  expect(pkg.manifest.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 28, 28, 1] }]);
  expect(pkg.manifest.outputs).toEqual([{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }]);
  const config = buildModelConfig(pkg.manifest);
  expect(config.maxBatchSize).toBe(64);
  expect(config.inputs).toEqual([{ name: 'input', dataType: 'TYPE_FP32', dims: [28, 28, 1] }]);
});

test('held-out accuracy >= 0.94 on the mnist-mlp eval split', async () => {
  const evalSet = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'mnist-eval.json'), 'utf8')) as EvalSet;
  const pixels = Buffer.from(evalSet.pixels, 'base64');
  const engine = await InferenceEngine.load(PACKAGE);
  const data = Float32Array.from(pixels, (v) => v / 255);
  const request = encodeInferRequest([{ name: 'input', datatype: 'FP32', shape: [evalSet.count, 28, 28, 1], data }], {
    binaryInputs: true,
  });
  const result = await engine.infer(decodeInferRequest(request.body, request.headers, engine.manifest));
  const probs = result.outputs[0].data as Float32Array;
  let correct = 0;
  for (let r = 0; r < evalSet.count; r++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (probs[r * 10 + c] > probs[r * 10 + best]) best = c;
    if (best === evalSet.labels[r]) correct++;
  }
  expect(correct / evalSet.count).toBeGreaterThanOrEqual(0.94);
});
