/**
 * P3's baseline: the least a process can do to answer one inference. It loads onnxruntime-node, reads the
 * model file, creates the session (same options as the engine), runs one batch-1 input of zeros, prints
 * `done` and exits. `node minimal-cold.js MODEL.onnx INPUT_NAME FEATURES`.
 */
// Loaded with require, as a hand-written script would, and timed from process spawn by the parent.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the baseline loads modules as a hand-written script does
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const { readFileSync } = require('node:fs') as typeof import('node:fs');

async function main(): Promise<void> {
  const [modelPath, inputName, features] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(readFileSync(modelPath), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const n = Number(features);
  const results = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(n), [1, n]) });
  process.stdout.write(`done ${Object.keys(results).length}\n`);
}

export {};

main().catch((err: Error) => {
  process.stderr.write(`minimal-cold: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
