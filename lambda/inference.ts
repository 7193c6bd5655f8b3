/**
 * Lambda front: API Gateway proxy events in, the shared router and engine behind. The package is read
 * and its session created once, during init: from MODEL_DIR, or fetched from the model registry and
 * checked against MODEL_SHA256 (see lib/registry/package-source.ts), and with a trust policy its signature
 * is checked first (lib/trust/check-from-env.ts); then the first golden sample is answered and checked
 * (lib/engine/warm-up.ts). The handler itself makes no AWS call.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { InferenceEngine } from '../lib/engine/engine';
import { threadOptionsFromEnv } from '../lib/engine/session-options';
import { loadWarmEngine } from '../lib/engine/warm-up';
import { packageDirFromEnv, registryPackageFromEnv } from '../lib/registry/package-source';
import { signatureCheckFromEnv } from '../lib/trust/check-from-env';
import { ModelRouter, type RouteEvent } from '../lib/router/router';
import { type ApiGatewayEvent, type ApiGatewayResult, requestFromEvent, restProxyEvent, resultFromResponse } from './api-gateway';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelship' });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'modelship',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelship',
});

/** Set when a request added metrics: publishing an empty buffer only makes Powertools warn. */
let pendingMetrics = false;

function record(event: RouteEvent): void {
  if (event.route === 'infer') {
    pendingMetrics = true;
    metrics.addMetric('InferenceLatency', MetricUnit.Milliseconds, event.durationMs);
    metrics.addMetric('InferenceErrors', MetricUnit.Count, event.status >= 500 ? 1 : 0);
    metrics.addMetric('InvalidRequests', MetricUnit.Count, event.status >= 400 && event.status < 500 ? 1 : 0);
  }
  if (event.error !== undefined) logger.error('request failed', { route: event.route, status: event.status, error: event.error as Error });
}

const checkSignature = signatureCheckFromEnv();

/**
 * The engine's warm-up leaves this front's own code cold: event decoding, routing, result encoding and
 * the metrics. One golden request through them at INIT, whose metrics are built and then dropped, so
 * none is published for it.
 */
async function warmFront(engine: InferenceEngine): Promise<void> {
  const sample = engine.manifest.samples[0];
  if (sample === undefined) return;
  const body = await readFile(join(engine.dir, sample.request), 'utf8');
  const event = restProxyEvent('POST', `/v2/models/${engine.name}/infer`, body, 'warm-up', 'init');
  resultFromResponse(await new ModelRouter([engine], { onResult: record }).handle(requestFromEvent(event)));
  metrics.serializeMetrics();
  metrics.clearMetrics();
  pendingMetrics = false;
}

/** Whether the package is the one in the function's asset, not one fetched from a registry at INIT. */
const fromAsset = registryPackageFromEnv() === undefined;

// Started at module load so that the model is read and the session created during Lambda's init phase.
const ready: Promise<ModelRouter> = packageDirFromEnv('MODEL_DIR')
  .then(async (dir) => {
    // With a trust policy (LambdaModel's `trust`), nothing of the package is read before its signature verifies.
    // The model is left to loadWarmEngine to hash, against the manifest the signature covers.
    const signed = await checkSignature?.(dir, { modelHashedByLoader: true });
    if (signed) logger.info('package signature verified', { keyId: signed.keyId, files: signed.files });
    // Warmed during INIT, so the first request finds the session's first run done and its answer checked.
    // A package in the asset was checked by LambdaModel at synth; one fetched from a registry was checked as it was fetched.
    return loadWarmEngine(dir, { sessionOptions: threadOptionsFromEnv(), checkedAtSynth: fromAsset });
  })
  .then(async ({ engine, warmUp }) => {
    metrics.setDefaultDimensions({ model: engine.name, version: engine.version });
    logger.appendKeys({ model: engine.name, modelVersion: engine.version });
    await warmFront(engine);
    logger.info('model loaded', {
      sha256: engine.manifest.model.sha256,
      bytes: engine.manifest.model.bytes,
      load: engine.loadTimings,
      warmUp,
    });
    return new ModelRouter([engine], { onResult: record });
  });

export async function handler(event: ApiGatewayEvent, context?: Context): Promise<ApiGatewayResult> {
  const router = await ready;
  if (context) logger.addContext(context);
  logger.appendKeys({ requestId: event.requestContext?.requestId });
  try {
    const response = await router.handle(requestFromEvent(event));
    const result = resultFromResponse(response);
    // The router counted the answer it made; one over Lambda's payload limit leaves as a 413 instead.
    if (result.statusCode !== response.status) logger.warn('answer replaced', { status: response.status, sent: result.statusCode });
    logger.debug('answered', { status: result.statusCode });
    return result;
  } finally {
    if (pendingMetrics) metrics.publishStoredMetrics();
    pendingMetrics = false;
  }
}
