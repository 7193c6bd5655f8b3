/**
 * P3 cold start: wall time from process spawn to the first answered inference.
 *
 * - modelship: `node dist/bin/modelship.js serve DIR --port P --quiet` (no --config, so a dev key is generated,
 *   as `npm start` does). Clock starts just before spawn(). When the banner's API-key line appears on the
 *   child's stdout (printed after the server listens), this process POSTs one batch-1 JSON infer request on a
 *   fresh connection with that key; the clock stops when the 200 response has been read completely. So it
 *   covers: node start, CLI parsing, module loading, manifest schema check, model read + sha256, session
 *   creation, listen, and one full HTTP request through auth, rate limit, validation, run and encode.
 * - minimal: `node dist/bench/minimal-cold.js MODEL.onnx ...`: require onnxruntime-node, read the model,
 *   create the session, run one batch-1 input. Clock starts just before spawn() and stops when its `done`
 *   line arrives on stdout (printed right after run resolves); process exit is not counted, just as the
 *   server's lifetime after the answer is not.
 *
 * - minimal server, for scale (no target): P2's hand-written node:http + ORT server, spawn -> listening -> one
 *   batch-1 JSON POST -> 200. What a server pays that the minimal script does not (node:http, listen, one
 *   request on a fresh connection), so the part of modelship's figure that is HTTP itself.
 *
 * All sides see the same page cache: one unmeasured warmup run each, then the runs rotate, each side going
 * first, second and third in turn.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { readManifest } from '../lib/package/manifest';
import { freePort, median, progress, round, spawnNode, stopChild, waitExit, waitForLine } from './common';
import { type BenchModel, requestBodies } from './model';

export interface ColdStats {
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly samplesMs: readonly number[];
  /** medianMs / the minimal script's medianMs. */
  readonly ratio: number;
}

export interface ColdFigures {
  readonly repeats: number;
  readonly modelship: ColdStats & { readonly readyMedianMs: number };
  readonly minimal: ColdStats;
  /** P2's hand-written node:http + ORT server, spawn -> first 200: how much of modelship's figure is HTTP itself. Reported, not a target. */
  readonly minimalServer: ColdStats;
  readonly measures: { readonly modelship: string; readonly minimal: string; readonly minimalServer: string };
}

function postOnce(url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(body.byteLength) }, agent: false },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const KEY_LINE = /^API key \(generated[^)]*\): (\S+)\s*$/;

export async function coldModelship(model: BenchModel, cli: string): Promise<{ total: number; ready: number }> {
  const port = await freePort();
  const body = requestBodies(model, 1);
  const t0 = performance.now();
  const child = spawnNode(cli, ['serve', model.dir, '--port', String(port), '--quiet']);
  try {
    const key = await waitForLine(child, (line) => KEY_LINE.exec(line)?.[1], 60_000, 'modelship serve');
    const ready = performance.now() - t0;
    const status = await postOnce(`http://127.0.0.1:${port}/v2/models/${model.name}/infer`, body.json, {
      ...body.jsonHeaders,
      'x-api-key': key,
    });
    const total = performance.now() - t0;
    if (status !== 200) throw new Error(`modelship serve answered the first inference with ${status}`);
    return { total, ready };
  } finally {
    await stopChild(child);
  }
}

async function coldMinimal(model: BenchModel, script: string, modelPath: string): Promise<number> {
  const t0 = performance.now();
  const child = spawnNode(script, [modelPath, model.inputName, String(model.features)]);
  await waitForLine(child, (line) => (line.startsWith('done') ? true : undefined), 60_000, 'minimal-cold');
  const total = performance.now() - t0;
  const code = await waitExit(child);
  if (code !== 0) throw new Error(`minimal-cold exited with ${code}`);
  return total;
}

const URL_LINE = /^\{"url":"([^"]+)"\}$/;

async function coldMinimalServer(model: BenchModel, script: string, modelPath: string): Promise<number> {
  const body = requestBodies(model, 1);
  const t0 = performance.now();
  const child = spawnNode(script, [modelPath]);
  try {
    const url = await waitForLine(child, (line) => URL_LINE.exec(line)?.[1], 60_000, 'minimal-server');
    const status = await postOnce(`${url}/v2/models/${model.name}/infer`, body.json, body.jsonHeaders);
    const total = performance.now() - t0;
    if (status !== 200) throw new Error(`minimal-server answered the first inference with ${status}`);
    return total;
  } finally {
    await stopChild(child);
  }
}

export async function benchColdStart(model: BenchModel, repeats = 7): Promise<ColdFigures> {
  const cli = join(__dirname, '..', 'bin', 'modelship.js');
  const script = join(__dirname, 'minimal-cold.js');
  const serverScript = join(__dirname, 'minimal-server.js');
  const modelPath = join(model.dir, readManifest(model.dir).model.file);
  const bar = progress(`P3 cold start (${repeats} x 3 runs)`, repeats + 1);
  await coldModelship(model, cli);
  await coldMinimal(model, script, modelPath);
  await coldMinimalServer(model, serverScript, modelPath);
  bar.tick();
  const ms: number[] = [];
  const ready: number[] = [];
  const min: number[] = [];
  const minServer: number[] = [];
  const sides = [
    async () => {
      const r = await coldModelship(model, cli);
      ms.push(r.total);
      ready.push(r.ready);
    },
    async () => {
      min.push(await coldMinimal(model, script, modelPath));
    },
    async () => {
      minServer.push(await coldMinimalServer(model, serverScript, modelPath));
    },
  ];
  for (let i = 0; i < repeats; i++) {
    // Each side goes first, second and third in turn.
    for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]();
    bar.tick();
  }
  bar.stop();
  const minimalMedian = median(min);
  const stats = (samples: number[]): ColdStats => ({
    runs: samples.length,
    medianMs: round(median(samples), 1),
    minMs: round(Math.min(...samples), 1),
    maxMs: round(Math.max(...samples), 1),
    samplesMs: samples.map((s) => round(s, 1)),
    ratio: round(median(samples) / minimalMedian, 3),
  });
  return {
    repeats,
    modelship: { ...stats(ms), readyMedianMs: round(median(ready), 1) },
    minimal: stats(min),
    minimalServer: stats(minServer),
    measures: {
      modelship:
        'spawn of `node dist/bin/modelship.js serve DIR --port P --quiet` -> banner (server listening) -> one batch-1 JSON POST .../infer with the printed dev key on a new connection -> 200 response fully read',
      minimal:
        'spawn of `node dist/bench/minimal-cold.js MODEL.onnx` (require onnxruntime-node, read model, InferenceSession.create, one batch-1 run) -> its `done` line read from stdout',
      minimalServer:
        'spawn of `node dist/bench/minimal-server.js MODEL.onnx` (P2 baseline: node:http + ORT, no auth or validation) -> its url line (listening) -> one batch-1 JSON POST on a new connection -> 200 response fully read',
    },
  };
}
