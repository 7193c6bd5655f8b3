/**
 * Warm-up: onnxruntime plans memory and picks kernels on a session's first run, and the codec's code is
 * cold until it has decoded a body, so the first request after a load pays for both. Every serving front
 * (Lambda INIT, `serve`, and so `/ready`) therefore answers the package's first golden sample once before
 * it reports ready, and checks the answer: a model that loads but no longer answers as recorded is
 * refused like a tampered one. `verify`, `package` and `compress` load with InferenceEngine.load alone,
 * because they compare every sample themselves and must report a mismatch rather than fail to load.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { answerSample } from '../package/answer-sample';
import { PackageError } from '../package/errors';
import { compareOutputs, type GoldenResponse, syntheticRequest } from '../package/golden';
import { parseJson } from '../protocol/json';
import { InferenceEngine, type EngineOptions } from './engine';

/** What the warm-up ran. */
export interface WarmUpReport {
  /** The package-relative request it sent, or 'synthetic' for a package without golden samples. */
  readonly sample: string;
  /** Whether the answer was compared with a recorded one (false only without golden samples). */
  readonly checked: boolean;
  readonly durationMs: number;
}

/**
 * Answers the first golden sample, or, for a package that has none, a synthetic request whose answer
 * is not checked. Throws a PackageError naming the sample when the answer differs from its recording.
 */
export async function warmUp(engine: InferenceEngine): Promise<WarmUpReport> {
  const started = performance.now();
  const sample = engine.manifest.samples[0];
  if (sample === undefined) {
    await answerSample(engine, Buffer.from(JSON.stringify(syntheticRequest(engine.manifest.inputs, 1))));
    return { sample: 'synthetic', checked: false, durationMs: performance.now() - started };
  }
  const requestPath = join(engine.dir, sample.request);
  let problems: string[];
  try {
    const expected = parseJson(await readFile(join(engine.dir, sample.response), 'utf8'), sample.response) as GoldenResponse;
    const actual = await answerSample(engine, await readFile(requestPath));
    problems = compareOutputs(expected.outputs, actual.outputs, sample.tolerance);
  } catch (err) {
    problems = [(err as Error).message];
  }
  if (problems.length > 0) {
    throw new PackageError(
      `${requestPath}: the warm-up answer does not match ${sample.response}, so the package is not served: ${problems.join('; ')}`,
    );
  }
  return { sample: sample.request, checked: true, durationMs: performance.now() - started };
}

/** A warmed engine, with what its warm-up ran. */
export interface WarmEngine {
  readonly engine: InferenceEngine;
  readonly warmUp: WarmUpReport;
}

/** InferenceEngine.load, then warmUp; a package whose warm-up fails is released and refused. */
export async function loadWarmEngine(dir: string, options: EngineOptions = {}): Promise<WarmEngine> {
  const engine = await InferenceEngine.load(dir, options);
  try {
    return { engine, warmUp: await warmUp(engine) };
  } catch (err) {
    await engine.release();
    throw err;
  }
}
