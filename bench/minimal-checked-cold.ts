/**
 * A floor for P3L, reported beside the targets: the minimal handler (bench/minimal-cold.ts) plus only the
 * INIT work that issue 12 and the package format themselves require, done the plainest way. It reads the
 * package's modelship.json, reads the model and checks its sha256 (node:crypto), creates the session,
 * then answers the first golden sample and checks the answer against the recorded one within the sample's
 * FP32 tolerance (the warm-up of build item 3), prints `done` and exits. No Powertools, no event decoding,
 * no routing, no validation beyond the checks named. `node minimal-checked-cold.js PACKAGE_DIR`.
 *
 * FP32 models only, which is what the bench runs; anything else stops with an error rather than guess.
 */
// Loaded with require, as bench/minimal-cold.ts does, and timed from process spawn by the parent.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the baseline loads modules as a hand-written script does
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const { readFileSync } = require('node:fs') as typeof import('node:fs');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const { createHash } = require('node:crypto') as typeof import('node:crypto');

interface WireTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  // Flat or nested, as the wire protocol allows.
  readonly data: number[];
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  const manifest = JSON.parse(readFileSync(`${dir}/modelship.json`, 'utf8')) as {
    model: { file: string; sha256: string };
    samples: { request: string; response: string; tolerance?: { FP32?: { atol: number; rtol: number } } }[];
  };
  const bytes = readFileSync(`${dir}/${manifest.model.file}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.model.sha256) throw new Error(`model sha256 ${sha256} is not the manifest's ${manifest.model.sha256}`);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const sample = manifest.samples[0];
  const request = JSON.parse(readFileSync(`${dir}/${sample.request}`, 'utf8')) as { inputs: WireTensor[] };
  const expected = JSON.parse(readFileSync(`${dir}/${sample.response}`, 'utf8')) as { outputs: WireTensor[] };
  const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const input of request.inputs) {
    if (input.datatype !== 'FP32') throw new Error(`minimal-checked-cold handles FP32 inputs only, not ${input.datatype}`);
    feeds[input.name] = new ort.Tensor('float32', Float32Array.from(input.data.flat(Infinity)), input.shape);
  }
  const results = await session.run(feeds);
  const { atol, rtol } = sample.tolerance?.FP32 ?? { atol: 1e-4, rtol: 1e-3 };
  for (const want of expected.outputs) {
    const got = results[want.name]?.data as Float32Array | undefined;
    const values = want.data.flat(Infinity);
    if (got === undefined || got.length !== values.length) throw new Error(`output ${want.name} is missing or has another size`);
    values.forEach((v, i) => {
      if (Math.abs(got[i] - v) > atol + rtol * Math.abs(v)) throw new Error(`output ${want.name}[${i}] is ${got[i]}, not ${v}`);
    });
  }
  process.stdout.write(`done ${Object.keys(results).length}\n`);
}

export {};

main().catch((err: Error) => {
  process.stderr.write(`minimal-checked-cold: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
