/**
 * The first request after a load, with and without the warm-up (lib/engine/warm-up.ts), in a fresh process:
 * `node first-request.js DIR warm|none BODY N` loads the package (loadWarmEngine, or InferenceEngine.load
 * alone), times the first inferResponse on BODY and N more, and prints `result` and a JSON line.
 */
import { readFileSync } from 'node:fs';
import { InferenceEngine } from '../lib/engine/engine';
import { loadWarmEngine } from '../lib/engine/warm-up';
import { inferResponse } from '../lib/router/router';

async function main(): Promise<void> {
  const [dir, mode, bodyFile, count] = process.argv.slice(2);
  const body = readFileSync(bodyFile);
  const engine = mode === 'warm' ? (await loadWarmEngine(dir)).engine : await InferenceEngine.load(dir);
  const headers = { 'content-type': 'application/json' };
  const time = async () => {
    const t0 = performance.now();
    const r = await inferResponse(engine, body, headers);
    if (r.status !== 200) throw new Error(`infer answered ${r.status}`);
    return performance.now() - t0;
  };
  const firstMs = await time();
  const warmMs: number[] = [];
  for (let i = 0; i < Number(count); i++) warmMs.push(await time());
  process.stdout.write(`result ${JSON.stringify({ firstMs, warmMs })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`first-request: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
