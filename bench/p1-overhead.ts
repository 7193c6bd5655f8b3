/**
 * P1 warm overhead: what the engine adds to onnxruntime per call, in one process, with no HTTP.
 *
 * - raw:    the engine's own InferenceSession, `session.run(feeds)` with the feeds built once beforehand.
 *           The floor: every v2 front pays this.
 * - json:   `inferResponse(engine, body, headers)`, what the router runs for POST .../infer, with a v2 JSON
 *           body: UTF-8 + JSON parse, validation against the manifest, typed-array fill, run, JSON encode.
 * - binary: `inferResponse` with Triton's binary extension (Inference-Header-Content-Length, FP32 bytes
 *           after a small JSON header) and binary outputs requested.
 * - binary-unaligned: the same, with the JSON header as JSON.stringify writes it, so that the tensor
 *           starts unaligned and is copied: what most clients send. Reported, not a target.
 * - naive:  the naive codec, the least any JSON server does and so the floor for JSON: `JSON.parse` the body,
 *           fill a Float32Array from its data, `session.run` (the raw session), `JSON.stringify` the outputs.
 *           No validation at all. Note that it writes outputs with V8's number-to-string, whose cache hits
 *           here because every call answers the same request; a server answering new requests gets no hits.
 *
 * The variants alternate in blocks, in a shuffled order each round, so drift (turbo, thermal, GC, other
 * processes) lands on all of them alike. Every call is timed on its own; the figure is the median per call.
 * No full GC is forced between blocks, though that would keep one variant's garbage out of the next block:
 * after a forced full GC, every call of the following block measured slower (raw session.run by about 3 µs,
 * the binary path by 7 µs at batch 1), and stayed slower for the whole block, which no server, forcing no
 * GC, ever pays. Young garbage dies in its own block's scavenges either way.
 */
import * as ort from 'onnxruntime-node';
import { InferenceEngine } from '../lib/engine/engine';
import { seededRandom } from '../lib/package/seeded-random';
import type { HttpResponse } from '../lib/router/http';
import { inferResponse } from '../lib/router/router';
import { mean, median, progress, quantile, round, shuffled } from './common';
import { type BenchModel, requestBodies } from './model';

export type OverheadVariant = 'raw' | 'json' | 'binary' | 'binaryUnaligned' | 'naive';
export const OVERHEAD_VARIANTS: readonly OverheadVariant[] = ['raw', 'json', 'binary', 'binaryUnaligned', 'naive'];

export interface CallStats {
  readonly calls: number;
  readonly medianUs: number;
  readonly meanUs: number;
  readonly p10Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  /** median / raw median (1 for raw). */
  readonly ratio: number;
  /** Median over rounds of (this variant's block median / raw's block median in the same round): a drift-proof cross-check. */
  readonly ratioPerRound: number;
}

export interface OverheadFigures {
  readonly batch: number;
  readonly rounds: number;
  readonly callsPerBlock: number;
  readonly warmupCalls: number;
  readonly requestBytes: { readonly json: number; readonly binary: number };
  /** Largest |difference| between raw outputs and what each other variant returned: the variants do the same work. */
  readonly maxAbsDiff: { readonly json: number; readonly binary: number; readonly naive: number };
  readonly variants: Readonly<Record<OverheadVariant, CallStats>>;
  /** The P1 target figures: JSON against the naive codec, binary against raw. */
  readonly targets: {
    /** json median / naive median. */
    readonly jsonVsNaive: number;
    /** Median over rounds of json block median / naive block median. */
    readonly jsonVsNaivePerRound: number;
    /** binary median - raw median, µs. */
    readonly binaryOverRawUs: number;
  };
}

export interface OverheadPlan {
  readonly batch: number;
  readonly rounds: number;
  readonly callsPerBlock: number;
  readonly warmupCalls: number;
}

/** Defaults sized for ~10 s per batch size on 2 cores. */
export const DEFAULT_OVERHEAD_PLANS: readonly OverheadPlan[] = [
  { batch: 1, rounds: 40, callsPerBlock: 250, warmupCalls: 1000 },
  { batch: 64, rounds: 30, callsPerBlock: 40, warmupCalls: 200 },
];

/** What the naive codec answers: the JSON text of its outputs, as a server would send it. */
interface NaiveOutput {
  readonly name: string;
  readonly data: number[];
}

/** The naive codec (see the module comment): parse, fill, run, stringify. */
async function naiveCodec(session: ort.InferenceSession, body: Buffer, model: BenchModel): Promise<string> {
  const request = JSON.parse(body.toString('utf8')) as { inputs: { name: string; shape: number[]; data: number[] }[] };
  const input = request.inputs[0];
  const results = await session.run({ [input.name]: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) });
  const outputs = Object.entries(results).map(([name, t]) => ({
    name,
    datatype: 'FP32',
    shape: t.dims,
    data: Array.from(t.data as Float32Array),
  }));
  return JSON.stringify({ model_name: model.name, model_version: model.version, outputs });
}

function responseData(response: HttpResponse, outputName: string): Float32Array {
  if (response.status !== 200) throw new Error(`engine answered ${response.status}: ${String(response.body)}`);
  if (typeof response.body === 'string') {
    const parsed = JSON.parse(response.body) as { outputs: { name: string; data: number[] }[] };
    return Float32Array.from(parsed.outputs.find((o) => o.name === outputName)!.data);
  }
  const body = Buffer.from(response.body);
  const headerLength = Number(response.headers['inference-header-content-length']);
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as {
    outputs: { name: string; parameters: { binary_data_size: number } }[];
  };
  let offset = headerLength;
  for (const o of header.outputs) {
    const size = o.parameters.binary_data_size;
    if (o.name === outputName) return new Float32Array(body.buffer.slice(body.byteOffset + offset, body.byteOffset + offset + size));
    offset += size;
  }
  throw new Error(`output ${outputName} missing from the binary response`);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export async function benchOverhead(
  model: BenchModel,
  plans: readonly OverheadPlan[] = DEFAULT_OVERHEAD_PLANS,
): Promise<OverheadFigures[]> {
  const engine = await InferenceEngine.load(model.dir);
  // The engine's own session, which TypeScript's `private` hides but does not lock. A second session on
  // the same bytes would be a second intra-op thread pool on the same 2 cores, and alternating between
  // the two pools measured 8-15 µs of contention per call that neither front pays in production.
  const session = (engine as unknown as { readonly session: ort.InferenceSession }).session;
  const figures: OverheadFigures[] = [];
  try {
    for (const plan of plans) figures.push(await benchBatch(model, engine, session, plan));
  } finally {
    await engine.release();
  }
  return figures;
}

async function benchBatch(
  model: BenchModel,
  engine: InferenceEngine,
  session: ort.InferenceSession,
  plan: OverheadPlan,
): Promise<OverheadFigures> {
  const bodies = requestBodies(model, plan.batch);
  const feeds = { [model.inputName]: new ort.Tensor('float32', bodies.values, [plan.batch, model.features]) };
  const out = model.outputNames[0];
  const calls: Record<OverheadVariant, () => Promise<unknown>> = {
    raw: () => session.run(feeds),
    json: () => inferResponse(engine, bodies.json, bodies.jsonHeaders),
    binary: () => inferResponse(engine, bodies.binary, bodies.binaryHeaders),
    binaryUnaligned: () => inferResponse(engine, bodies.binaryUnaligned, bodies.binaryUnalignedHeaders),
    naive: () => naiveCodec(session, bodies.json, model),
  };

  // The variants must do the same inference: compare their answers once before timing anything.
  const raw = (await session.run(feeds))[out].data as Float32Array;
  const diff = {
    json: maxAbsDiff(raw, responseData(await inferResponse(engine, bodies.json, bodies.jsonHeaders), out)),
    binary: maxAbsDiff(raw, responseData(await inferResponse(engine, bodies.binary, bodies.binaryHeaders), out)),
    naive: maxAbsDiff(
      raw,
      Float32Array.from(
        (JSON.parse(await naiveCodec(session, bodies.json, model)) as { outputs: NaiveOutput[] }).outputs.find((o) => o.name === out)!.data,
      ),
    ),
  };

  const bar = progress(`P1 batch ${plan.batch}`, plan.rounds + 1);
  for (const v of OVERHEAD_VARIANTS) for (let i = 0; i < plan.warmupCalls; i++) await calls[v]();
  bar.tick();

  const total = plan.rounds * plan.callsPerBlock;
  const times: Record<OverheadVariant, Float64Array> = {
    raw: new Float64Array(total),
    json: new Float64Array(total),
    binary: new Float64Array(total),
    binaryUnaligned: new Float64Array(total),
    naive: new Float64Array(total),
  };
  const blockMedians: Record<OverheadVariant, number[]> = { raw: [], json: [], binary: [], binaryUnaligned: [], naive: [] };
  const random = seededRandom(plan.batch * 7919 + 1);
  for (let r = 0; r < plan.rounds; r++) {
    for (const v of shuffled(OVERHEAD_VARIANTS, random)) {
      const call = calls[v];
      const t = times[v];
      const start = r * plan.callsPerBlock;
      for (let i = 0; i < plan.callsPerBlock; i++) {
        const t0 = process.hrtime.bigint();
        await call();
        t[start + i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
      blockMedians[v].push(median(t.subarray(start, start + plan.callsPerBlock)));
    }
    bar.tick();
  }
  bar.stop();

  const rawMedian = median(times.raw);
  const stats = (v: OverheadVariant): CallStats => {
    const t = times[v];
    const perRound = blockMedians[v].map((m, i) => m / blockMedians.raw[i]);
    return {
      calls: t.length,
      medianUs: round(median(t)),
      meanUs: round(mean(t)),
      p10Us: round(quantile(t, 0.1)),
      p90Us: round(quantile(t, 0.9)),
      p99Us: round(quantile(t, 0.99)),
      ratio: round(median(t) / rawMedian, 3),
      ratioPerRound: round(median(perRound), 3),
    };
  };
  return {
    batch: plan.batch,
    rounds: plan.rounds,
    callsPerBlock: plan.callsPerBlock,
    warmupCalls: plan.warmupCalls,
    requestBytes: { json: bodies.json.byteLength, binary: bodies.binary.byteLength },
    maxAbsDiff: diff,
    variants: {
      raw: stats('raw'),
      json: stats('json'),
      binary: stats('binary'),
      binaryUnaligned: stats('binaryUnaligned'),
      naive: stats('naive'),
    },
    targets: {
      jsonVsNaive: round(median(times.json) / median(times.naive), 3),
      jsonVsNaivePerRound: round(median(blockMedians.json.map((m, i) => m / blockMedians.naive[i])), 3),
      binaryOverRawUs: round(median(times.binary) - rawMedian),
    },
  };
}
