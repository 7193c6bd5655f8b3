/**
 * What the canary's pre-traffic hook checks: a new Lambda version, invoked directly with API Gateway
 * events, must answer the package's golden samples within tolerance. No CodeDeploy here, so the check
 * runs the same against aws-sdk-client-mock in tests and against Lambda in a deployment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { compareOutputs, type GoldenResponse, type WireOutput } from '../lib/package/golden';
import { readManifest, type ToleranceByDatatype } from '../lib/package/manifest';
import { parseJson } from '../lib/protocol/json';
import type { ApiGatewayResult } from './api-gateway';

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

/** A REST API (v1) proxy event, as API Gateway would send for this request to the `live` alias. */
function proxyEvent(method: 'GET' | 'POST', path: string, body: string | null, requestId: string): APIGatewayProxyEvent {
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: body === null ? {} : { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      requestId,
      stage: 'pre-traffic',
      httpMethod: method,
      path,
      resourcePath: path,
    } as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded: false,
  };
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
 * Asks the version whether its model is ready, then sends each golden sample. Returns one line per
 * problem, empty when every answer matches. Stops at the first invoke that fails or times out: the
 * version is broken, and waiting out more timeouts would only delay the rollback.
 */
export async function checkVersion(options: CheckOptions): Promise<string[]> {
  const { client, functionName, golden, timeoutMs, requestIdPrefix, timeLeftMs } = options;
  const base = `/v2/models/${encodeURIComponent(golden.name)}/versions/${encodeURIComponent(golden.version)}`;
  const calls = [
    { what: 'ready', event: proxyEvent('GET', `${base}/ready`, null, `${requestIdPrefix}-ready`), sample: undefined },
    ...golden.samples.map((sample, i) => ({
      what: sample.request,
      event: proxyEvent('POST', `${base}/infer`, sample.body, `${requestIdPrefix}-sample-${i}`),
      sample,
    })),
  ];
  const problems: string[] = [];
  for (const call of calls) {
    const budget = Math.min(timeoutMs, timeLeftMs?.() ?? timeoutMs);
    if (budget <= 0) {
      problems.push(`${call.what}: no time left to invoke the version`);
      break;
    }
    let out: InvokeCommandOutput;
    try {
      out = await invokeWithin(client, functionName, call.event, budget);
    } catch (err) {
      problems.push(`${call.what}: invoke failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      break;
    }
    const result = resultOf(out);
    if (typeof result === 'string') {
      problems.push(`${call.what}: ${result}`);
      break;
    }
    const text = bodyText(result);
    if (result.statusCode !== 200) {
      problems.push(`${call.what}: status ${result.statusCode}: ${text.slice(0, 500)}`);
      continue;
    }
    if (call.sample === undefined) continue;
    let outputs: readonly WireOutput[];
    try {
      outputs = (parseJson(text, 'response body') as GoldenResponse).outputs;
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
