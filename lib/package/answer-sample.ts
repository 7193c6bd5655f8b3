/**
 * How `package` records a golden sample and `verify` re-runs it: through the router's infer path, the
 * same decode, run and encode that serve the package, read back as the JSON a golden response file holds.
 * Kept out of golden.ts, which the pre-traffic hook bundles without onnxruntime.
 */
import type { InferenceEngine } from '../engine/engine';
import { parseJson } from '../protocol/json';
import { inferResponse } from '../router/router';
import { PackageError } from './errors';
import type { GoldenResponse } from './golden';

/** Samples are v2 JSON bodies: no header marks binary tensor data in them. */
const NO_HEADERS: Readonly<Record<string, string | undefined>> = {};

/** The engine's answer to one sample request body, as golden outputs. Throws the codec's and engine's errors. */
export async function answerSample(engine: InferenceEngine, request: Uint8Array): Promise<GoldenResponse> {
  const response = await inferResponse(engine, request, NO_HEADERS);
  if (typeof response.body !== 'string') {
    throw new PackageError(
      'the sample asks for binary outputs; golden samples are recorded and compared as JSON, so drop binary_data from it',
    );
  }
  return { outputs: (parseJson(response.body) as GoldenResponse).outputs };
}
