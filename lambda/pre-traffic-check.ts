/**
 * What a canary's pre-traffic check asks of the new deployment: it must answer the package's golden
 * samples within tolerance. One loop sends the samples and compares the answers, whatever carries them:
 * a Lambda invoke of the new version with API Gateway events (lambda/pre-traffic.ts, for LambdaModel), or
 * HTTP to the ECS test listener, which routes to the new tasks only (lambda/ecs-lifecycle-hook.ts, for
 * EcsGpuModel). No CodeDeploy or ECS here, so the check runs the same against aws-sdk-client-mock or a
 * local HTTP server in tests as in a deployment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { compareOutputs, type GoldenResponse, type WireOutput } from '../lib/package/golden';
import { readManifest, type ToleranceByDatatype } from '../lib/package/manifest';
import { parseJson } from '../lib/protocol/json';
import { type ApiGatewayResult, restProxyEvent } from './api-gateway';

/** One golden sample, read from the hook's asset. */
export interface GoldenSample {
  /** Package-relative path of the request, for messages. */
  readonly request: string;
  /** The v2 request body, as recorded. */
  readonly body: string;
  readonly expected: readonly WireOutput[];
  readonly tolerance: ToleranceByDatatype;
}

/** The package's name, version and golden samples. */
export interface GoldenSet {
  readonly name: string;
  readonly version: string;
  readonly samples: readonly GoldenSample[];
}

/** Reads the manifest (schema-checked) and every golden sample it names from `dir`. */
export function readGoldenSet(dir: string): GoldenSet {
  const manifest = readManifest(dir);
  const samples = manifest.samples.map((s): GoldenSample => {
    const golden = parseJson(readFileSync(join(dir, s.response), 'utf8'), s.response) as GoldenResponse;
    return { request: s.request, body: readFileSync(join(dir, s.request), 'utf8'), expected: golden.outputs, tolerance: s.tolerance };
  });
  return { name: manifest.name, version: manifest.version, samples };
}

/** The invoke took longer than the hook allows. */
export class InvokeTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'InvokeTimeoutError';
  }
}

async function invokeWithin(
  client: LambdaClient,
  functionName: string,
  event: APIGatewayProxyEvent,
  timeoutMs: number,
): Promise<InvokeCommandOutput> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new InvokeTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  const command = new InvokeCommand({
    FunctionName: functionName,
    InvocationType: 'RequestResponse',
    Payload: new TextEncoder().encode(JSON.stringify(event)),
  });
  try {
    return await Promise.race([client.send(command, { abortSignal: abort.signal }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The API Gateway result in an invoke's payload, or why there is none. */
function resultOf(out: InvokeCommandOutput): ApiGatewayResult | string {
  const payload = out.Payload === undefined ? '' : Buffer.from(out.Payload).toString('utf8');
  if (out.FunctionError !== undefined) return `the function failed (${out.FunctionError}): ${payload.slice(0, 500)}`;
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch (err) {
    return `the payload is not JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (typeof result !== 'object' || result === null || typeof (result as ApiGatewayResult).statusCode !== 'number') {
    return 'the payload is not an API Gateway proxy result';
  }
  return result as ApiGatewayResult;
}

function bodyText(result: ApiGatewayResult): string {
  return result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
}

/** One request of the check: the target's readiness, or one golden sample's inference. */
export type GoldenRequest =
  { readonly kind: 'ready'; readonly id: string } | { readonly kind: 'infer'; readonly id: string; readonly body: string };

/** What the target answered: the HTTP status and the body as text. */
export interface TargetAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * Sends one request to the target, waiting at most `timeoutMs`. A string says why no answer came (the
 * call failed or timed out, or the target crashed): the check stops there.
 */
export type GoldenSender = (request: GoldenRequest, timeoutMs: number) => Promise<TargetAnswer | string>;

export interface GoldenCheckOptions {
  readonly golden: GoldenSet;
  readonly send: GoldenSender;
  /** Longest wait for one answer; longer counts as a failure. */
  readonly timeoutMs: number;
  /** Time the caller has left, in ms; each request gets at most that. Without it, only timeoutMs bounds a request. */
  readonly timeLeftMs?: () => number;
}

/**
 * Asks the target whether its model is ready, then sends each golden sample and compares the outputs
 * with the recorded ones. Returns one line per problem, empty when every answer matches. Stops at the
 * first request that gets no answer: the target is broken, and waiting out more timeouts would only
 * delay the rollback.
 */
export async function checkGoldenSamples(options: GoldenCheckOptions): Promise<string[]> {
  const { golden, send, timeoutMs, timeLeftMs } = options;
  const calls: Array<{ what: string; request: GoldenRequest; sample?: GoldenSample }> = [
    { what: 'ready', request: { kind: 'ready', id: 'ready' } },
    ...golden.samples.map((sample, i) => ({
      what: sample.request,
      request: { kind: 'infer', id: `sample-${i}`, body: sample.body } as const,
      sample,
    })),
  ];
  const problems: string[] = [];
  for (const call of calls) {
    const budget = Math.min(timeoutMs, timeLeftMs?.() ?? timeoutMs);
    if (budget <= 0) {
      problems.push(`${call.what}: no time left to ask the target`);
      break;
    }
    const answer = await send(call.request, budget);
    if (typeof answer === 'string') {
      problems.push(`${call.what}: ${answer}`);
      break;
    }
    if (answer.status !== 200) {
      problems.push(`${call.what}: status ${answer.status}: ${answer.body.slice(0, 500)}`);
      continue;
    }
    if (call.sample === undefined) continue;
    let outputs: readonly WireOutput[];
    try {
      outputs = (parseJson(answer.body, 'response body') as GoldenResponse).outputs;
    } catch (err) {
      problems.push(`${call.what}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (!Array.isArray(outputs)) {
      problems.push(`${call.what}: the response has no outputs array`);
      continue;
    }
    problems.push(...compareOutputs(call.sample.expected, outputs, call.sample.tolerance).map((p) => `${call.what}: ${p}`));
  }
  return problems;
}

/** `Name: message`. Checked by shape, not instanceof: errors from Node's own fetch may come from another realm. */
function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null && typeof (err as Error).message === 'string') {
    const { name, message } = err as Error;
    return `${typeof name === 'string' ? name : 'Error'}: ${message}`;
  }
  return String(err);
}

export interface CheckOptions {
  readonly client: LambdaClient;
  /** The qualified ARN of the version under test. */
  readonly functionName: string;
  readonly golden: GoldenSet;
  /** Longest wait for one invoke; longer counts as a failure. */
  readonly timeoutMs: number;
  /** Prefix of the request ids in the events, to find them in the target's logs. */
  readonly requestIdPrefix: string;
  /** Time the caller has left, in ms; each invoke gets at most that. Without it, only timeoutMs bounds an invoke. */
  readonly timeLeftMs?: () => number;
}

/**
 * The golden check against a Lambda version: each request is an API Gateway event on the versioned
 * route, as the `live` alias would get it, invoked directly on the version under test.
 */
export function checkVersion(options: CheckOptions): Promise<string[]> {
  const { client, functionName, golden, requestIdPrefix } = options;
  const base = `/v2/models/${encodeURIComponent(golden.name)}/versions/${encodeURIComponent(golden.version)}`;
  const send: GoldenSender = async (request, timeoutMs) => {
    const requestId = `${requestIdPrefix}-${request.id}`;
    const event =
      request.kind === 'ready'
        ? restProxyEvent('GET', `${base}/ready`, null, requestId, 'pre-traffic')
        : restProxyEvent('POST', `${base}/infer`, request.body, requestId, 'pre-traffic');
    let out: InvokeCommandOutput;
    try {
      out = await invokeWithin(client, functionName, event, timeoutMs);
    } catch (err) {
      return `invoke failed: ${describeError(err)}`;
    }
    const result = resultOf(out);
    return typeof result === 'string' ? result : { status: result.statusCode, body: bodyText(result) };
  };
  return checkGoldenSamples({ golden, send, timeoutMs: options.timeoutMs, timeLeftMs: options.timeLeftMs });
}

export interface TestListenerCheckOptions {
  /** `http://<load balancer>:<test port>`: where the new tasks, and only they, answer. */
  readonly baseUrl: string;
  readonly golden: GoldenSet;
  /** Longest wait for one answer; longer counts as a failure. */
  readonly timeoutMs: number;
  readonly timeLeftMs?: () => number;
}

/**
 * The golden check against Triton behind a test listener. The paths are Triton's unversioned ones, the
 * ones API Gateway's integration forwards every infer route to (lib/constructs/private/gpu-integrations.ts):
 * Triton's own version of the model is its repository directory, `1`, not the package version.
 */
export function checkTestListener(options: TestListenerCheckOptions): Promise<string[]> {
  const model = `${options.baseUrl.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(options.golden.name)}`;
  const send: GoldenSender = async (request, timeoutMs) => {
    const url = `${model}/${request.kind}`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const res = await fetch(
        url,
        request.kind === 'ready'
          ? { method: 'GET', signal: abort.signal }
          : { method: 'POST', headers: { 'content-type': 'application/json' }, body: request.body, signal: abort.signal },
      );
      return { status: res.status, body: await res.text() };
    } catch (err) {
      if (abort.signal.aborted) return `no answer from ${url} within ${timeoutMs} ms`;
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a reset) is its cause.
      const reason = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
      const cause = reason === undefined ? '' : ` (${describeError(reason)})`;
      return `request to ${url} failed: ${describeError(err)}${cause}`;
    } finally {
      clearTimeout(timer);
    }
  };
  return checkGoldenSamples({ golden: options.golden, send, timeoutMs: options.timeoutMs, timeLeftMs: options.timeLeftMs });
}
