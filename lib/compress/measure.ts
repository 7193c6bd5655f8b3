/**
 * The figures a compression report gives for the base and for the compressed model, each run by the
 * same InferenceEngine that serves packages: file size, session-creation time, latency at batch 1 and
 * 64, accuracy on eval data, and the largest deviation from the base's golden samples.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceEngine } from '../engine/engine';
import { sessionOptionsFor } from '../engine/session-options';
import { answerSample } from '../package/answer-sample';
import type { GoldenResponse } from '../package/golden';
import type { Manifest } from '../package/manifest';
import { seededRandom } from '../package/seeded-random';
import { parseJson } from '../protocol/json';
import type { InferRequest, Tensor } from '../protocol/types';
import type { Dataset } from '../reuse/training-data';
import { CompressionError } from './errors';

/** Milliseconds from an arbitrary origin; latency figures only, which no test asserts. */
export type Timer = () => number;

export interface LatencyFigures {
  /** Median milliseconds per request of one example. */
  readonly batch1Ms: number;
  /** Median milliseconds per request of 64 examples. */
  readonly batch64Ms: number;
}

/** A batch of seeded inputs of the model's signature: floats in [0, 1), integers 0. */
function syntheticRequest(manifest: Manifest, batch: number): InferRequest {
  const random = seededRandom(batch);
  const inputs: Tensor[] = manifest.inputs.map((spec) => {
    const shape = [batch, ...spec.shape.slice(1).map((d) => (d < 0 ? 1 : d))];
    const size = shape.reduce((a, b) => a * b, 1);
    const data =
      spec.datatype === 'FP32'
        ? Float32Array.from({ length: size }, () => random())
        : spec.datatype === 'INT64'
          ? new BigInt64Array(size)
          : new Int32Array(size);
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });
  return { inputs, outputs: manifest.outputs.map((o) => ({ name: o.name, binary: false })), sagemaker: false };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Runs until `budgetMs` has passed and at least `least` runs are in, after a warm-up; the median run. */
async function timeRuns(run: () => Promise<unknown>, timer: Timer, budgetMs: number, least = 15): Promise<number> {
  for (let i = 0; i < 5; i++) await run();
  const times: number[] = [];
  const start = timer();
  while (times.length < least || (timer() - start < budgetMs && times.length < 2000)) {
    const t = timer();
    await run();
    times.push(timer() - t);
  }
  return median(times);
}

export async function measureLatency(engine: InferenceEngine, timer: Timer, budgetMs = 400): Promise<LatencyFigures> {
  const one = syntheticRequest(engine.manifest, 1);
  const many = syntheticRequest(engine.manifest, 64);
  return {
    batch1Ms: await timeRuns(() => engine.infer(one), timer, budgetMs),
    batch64Ms: await timeRuns(() => engine.infer(many), timer, budgetMs),
  };
}

/** Median milliseconds to create a session from the model's bytes, as a cold start does. */
export async function measureSessionCreation(bytes: Uint8Array, manifest: Manifest, timer: Timer, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = timer();
    const session = await ort.InferenceSession.create(bytes, sessionOptionsFor(manifest));
    times.push(timer() - t);
    await session.release();
  }
  return median(times);
}

/** Top-1 accuracy on labelled eval data, the first output read as class scores. */
export async function measureAccuracy(engine: InferenceEngine, data: Dataset, batchSize = 256): Promise<number> {
  const { manifest } = engine;
  if (!data.labels) throw new CompressionError(`${data.file} has no labels; accuracy needs labelled eval data`);
  const output = manifest.outputs[0];
  const classes = output.shape.slice(1).reduce((a, b) => a * b, 1);
  let right = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const rows = Math.min(batchSize, data.count - start);
    const inputs: Tensor[] = manifest.inputs.map((spec) => {
      const all = data.inputs.get(spec.name)!;
      const size = all.length / data.count;
      const shape = [rows, ...spec.shape.slice(1)];
      return { name: spec.name, datatype: spec.datatype, shape, data: all.subarray(start * size, (start + rows) * size) };
    });
    const result = await engine.infer({ inputs, outputs: [{ name: output.name, binary: false }], sagemaker: false });
    const scores = result.outputs[0].data as Float32Array;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (scores[r * classes + c] > scores[r * classes + best]) best = c;
      if (best === data.labels[start + r]) right++;
    }
  }
  return right / data.count;
}

/** The largest |difference| between the model's answers to the base's golden requests and the base's recorded answers. */
export async function goldenDeviation(engine: InferenceEngine, baseDir: string, base: Manifest): Promise<number> {
  let worst = 0;
  for (const sample of base.samples) {
    const request = await readFile(join(baseDir, sample.request));
    const recorded = parseJson(await readFile(join(baseDir, sample.response), 'utf8'), sample.response) as GoldenResponse;
    const fresh = await answerSample(engine, request);
    for (const expected of recorded.outputs) {
      const actual = fresh.outputs.find((o) => o.name === expected.name);
      if (!actual || actual.data.length !== expected.data.length)
        throw new CompressionError(`the compressed model's output '${expected.name}' no longer has the base's shape`);
      for (let i = 0; i < expected.data.length; i++) {
        const d = Math.abs(Number(actual.data[i]) - Number(expected.data[i]));
        worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
      }
    }
  }
  return worst;
}
