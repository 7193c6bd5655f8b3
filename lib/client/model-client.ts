/**
 * ModelClient: calls a model served over the Open Inference Protocol v2, by `modelship serve`, API Gateway
 * in front of a LambdaModel, or any v2 server, with an API key, IAM SigV4 or a bearer token.
 *
 * ```ts
 * const client = new ModelClient({ baseUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod', auth: { sigv4: { region: 'eu-west-1' } } });
 * const result = await client.infer('mnist-mlp', { input: { data: pixels, shape: [1, 784] } });
 * result.output('probabilities').data; // Float32Array(10)
 * ```
 *
 * Requests are encoded and responses decoded by the protocol's own client codec (JSON, or Triton's binary
 * tensor extension both ways). 429 and 5xx answers and network failures are retried with exponential
 * backoff and full jitter, waiting out Retry-After exactly; other 4xx and timeouts are not retried.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { decodeInferResponse, encodeInferRequest } from '../protocol/client-codec';
import { lambdaBodyRefusal } from '../protocol/payload-limits';
import type { ModelMetadata, Tensor } from '../protocol/types';
import { systemClock, type Clock, type Sleep } from '../util/clock';
import { VERSION } from '../version';
import {
  AuthError,
  HttpError,
  ModelClientError,
  NetworkError,
  PayloadTooLargeError,
  RateLimitedError,
  ResponseError,
  TimeoutError,
} from './errors';
import { backoffMs, parseRetryAfter, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from './retry';
import { toTensors, type InferInputs } from './tensors';

/** IAM auth: requests are signed with SigV4 for API Gateway's execute-api. */
export interface SigV4Auth {
  /** The API's region, as in its URL: eu-west-1. */
  readonly region: string;
  /** @default - the standard chain: environment, shared config and credentials files, SSO, container and instance roles */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default 'execute-api' */
  readonly service?: 'execute-api';
}

/** Exactly one of: an API key (x-api-key), IAM SigV4, or a bearer token (a JWT, or a function that returns a fresh one). */
export type ClientAuth =
  { readonly apiKey: string } | { readonly sigv4: SigV4Auth } | { readonly bearer: string | (() => string | Promise<string>) };

export interface ModelClientOptions {
  /** Where the v2 API is: http://127.0.0.1:8080, or an API Gateway stage URL such as https://id.execute-api.eu-west-1.amazonaws.com/prod. */
  readonly baseUrl: string;
  /** @default - no credentials are sent */
  readonly auth?: ClientAuth;
  /** How infer requests and responses are encoded. @default 'json' */
  readonly protocol?: 'json' | 'binary';
  /** Per attempt, from sending the request to the last byte of the answer. @default 30000 */
  readonly timeoutMs?: number;
  /** @default { max: 3, baseDelayMs: 100, maxDelayMs: 20000 } */
  readonly retries?: RetryOptions;
  /** Further headers sent with every request. @default - none */
  readonly headers?: Readonly<Record<string, string>>;
  /** The fetch to use, for tests and custom agents. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Source of randomness for backoff jitter, for tests. @default Math.random */
  readonly random?: () => number;
  /** The clock SigV4 signing dates and Retry-After dates are read from, for tests. @default systemClock */
  readonly clock?: Clock;
  /** How the client waits before a retry, for tests: it must reject with the signal's reason on abort. @default a timer */
  readonly sleep?: Sleep;
}

export interface CallOptions {
  /** Cancels the call, retries and waits included; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface InferOptions extends CallOptions {
  /** @default - the version the server routes to (the latest) */
  readonly version?: string;
  /** Only these outputs. @default - every output */
  readonly outputs?: readonly string[];
  /** Echoed back in the response. */
  readonly id?: string;
  /** @default the client's protocol */
  readonly protocol?: 'json' | 'binary';
}

export interface InferResult {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  readonly outputs: readonly Tensor[];
  /** The output called `name`; a RangeError naming the outputs there are when it is missing. */
  output(name: string): Tensor;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses that are answers, not errors (503 for readiness), and so never retried. */
  readonly accept?: readonly number[];
  /** How an infer call encodes its tensors, for the advice a 413 carries. @default - not an infer call */
  readonly protocol?: 'json' | 'binary';
}

/** What to change after a 413: JSON costs 9 to 13 bytes for an FP32 element written in full, binary 4. */
function payloadHint(protocol: 'json' | 'binary' | undefined): string {
  return protocol === 'json' ? "send the tensors with protocol: 'binary', or a smaller batch" : 'send a smaller batch';
}

type Signer = (url: URL, method: string, headers: Record<string, string>, body: Uint8Array | undefined) => Promise<Record<string, string>>;

function validateAuth(auth: ClientAuth | undefined): void {
  if (auth === undefined) return;
  const keys = Object.keys(auth);
  if (keys.length !== 1 || !['apiKey', 'sigv4', 'bearer'].includes(keys[0])) {
    throw new TypeError(`auth must have exactly one of apiKey, sigv4 and bearer, got ${keys.length ? keys.join(', ') : 'none'}`);
  }
  if ('apiKey' in auth && (typeof auth.apiKey !== 'string' || auth.apiKey === ''))
    throw new TypeError('auth.apiKey must be a non-empty string');
  if ('bearer' in auth && typeof auth.bearer !== 'string' && typeof auth.bearer !== 'function')
    throw new TypeError('auth.bearer must be a string or a function returning one');
  if ('sigv4' in auth && (typeof auth.sigv4?.region !== 'string' || auth.sigv4.region === ''))
    throw new TypeError('auth.sigv4.region is required, such as eu-west-1');
}

function sigv4Signer(options: SigV4Auth, clock: Clock): Signer {
  let signerPromise:
    Promise<{ sign: (request: never, options: { signingDate: Date }) => Promise<{ headers: Record<string, string> }> }> | undefined;
  const load = async () => {
    // Loaded on first use: API-key and bearer clients never pay for the signer or the credential chain.
    const [{ SignatureV4 }, { Sha256 }] = await Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]);
    const credentials = options.credentials ?? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain();
    return new SignatureV4({ service: options.service ?? 'execute-api', region: options.region, credentials, sha256: Sha256 });
  };
  return async (url, method, headers, body) => {
    signerPromise ??= load();
    const signer = await signerPromise;
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const signed = await signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        body,
      } as never,
      { signingDate: new Date(clock.now()) },
    );
    // fetch sets Host itself, to the same value.
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}

function headersOf(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** The server's `{"error": "..."}`, when the body is one. */
function serverMessage(body: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as { error?: unknown };
    return typeof parsed?.error === 'string' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} must be a non-empty string`);
  return encodeURIComponent(value);
}

function modelPath(model: string, version?: string): string {
  return `/v2/models/${segment(model, 'model')}${version !== undefined ? `/versions/${segment(version, 'version')}` : ''}`;
}

export class ModelClient {
  private readonly base: URL;
  /** The base URL's path without a trailing slash ('' at the root, '/prod' for an API Gateway stage). */
  private readonly basePath: string;
  private readonly protocol: 'json' | 'binary';
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly fetchFn: typeof fetch;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly extraHeaders: Readonly<Record<string, string>>;
  private readonly auth?: ClientAuth;
  private readonly signer?: Signer;

  constructor(options: ModelClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`baseUrl "${options.baseUrl}" is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`baseUrl must be http or https, got ${base.protocol}`);
    if (base.search || base.hash) throw new TypeError('baseUrl must not have a query or fragment');
    this.base = base;
    this.basePath = base.pathname.replace(/\/+$/, '');
    validateAuth(options.auth);
    this.auth = options.auth;
    this.clock = options.clock ?? systemClock;
    if (options.auth !== undefined && 'sigv4' in options.auth) this.signer = sigv4Signer(options.auth.sigv4, this.clock);
    this.protocol = options.protocol ?? 'json';
    if (this.protocol !== 'json' && this.protocol !== 'binary')
      throw new TypeError(`protocol must be "json" or "binary", got ${String(this.protocol)}`);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${this.timeoutMs}`);
    this.retry = retryPolicy(options.retries);
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') throw new TypeError('no fetch: pass options.fetch, or use Node.js 18 or later');
    this.fetchFn = fetchFn;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? sleep;
    this.extraHeaders = options.headers ?? {};
  }

  /**
   * Runs the model on `inputs` and returns its outputs as tensors.
   * @throws TypeError or RangeError (before anything is sent) when an input's data, shape or datatype is inconsistent
   * @throws HttpError (400 names the input at fault; 404 an unknown model or version), PayloadTooLargeError (413), AuthError, RateLimitedError, TimeoutError, NetworkError, ResponseError
   */
  async infer(model: string, inputs: InferInputs, options: InferOptions = {}): Promise<InferResult> {
    const binary = (options.protocol ?? this.protocol) === 'binary';
    const encoded = encodeInferRequest(toTensors(inputs), {
      id: options.id,
      outputs: options.outputs,
      binaryInputs: binary,
      binaryOutputs: binary,
    });
    const path = `${modelPath(model, options.version)}/infer`;
    const answer = await this.call(
      { method: 'POST', path, body: encoded.body, headers: encoded.headers, protocol: binary ? 'binary' : 'json' },
      options.signal,
    );
    let decoded;
    try {
      decoded = decodeInferResponse(answer.body, answer.headers);
    } catch (err) {
      throw new ResponseError(`POST ${this.basePath}${path}: the answer is not a v2 infer response: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const outputs = decoded.outputs;
    return {
      modelName: decoded.modelName,
      modelVersion: decoded.modelVersion,
      ...(decoded.id !== undefined ? { id: decoded.id } : {}),
      outputs,
      output(name: string): Tensor {
        const t = outputs.find((o) => o.name === name);
        if (t === undefined)
          throw new RangeError(`no output '${name}'; the response has ${outputs.map((o) => `'${o.name}'`).join(', ') || 'none'}`);
        return t;
      },
    };
  }

  /** The model's metadata: versions, platform, inputs and outputs. */
  async metadata(model: string, version?: string, options: CallOptions = {}): Promise<ModelMetadata> {
    const answer = await this.call({ method: 'GET', path: modelPath(model, version) }, options.signal);
    return this.json<ModelMetadata>(answer, `GET ${modelPath(model, version)}`);
  }

  /** Whether the server (no model) or a model version is ready: true on 200, false on 503. */
  async ready(model?: string, version?: string, options: CallOptions = {}): Promise<boolean> {
    const path = model === undefined ? '/v2/health/ready' : `${modelPath(model, version)}/ready`;
    const answer = await this.call({ method: 'GET', path, accept: [503] }, options.signal);
    return answer.status === 200;
  }

  /** Whether the server is live: true on 200, false on 503. */
  async live(options: CallOptions = {}): Promise<boolean> {
    const answer = await this.call({ method: 'GET', path: '/v2/health/live', accept: [503] }, options.signal);
    return answer.status === 200;
  }

  private json<T>(answer: Answer, what: string): T {
    try {
      return JSON.parse(Buffer.from(answer.body).toString('utf8')) as T;
    } catch (err) {
      throw new ResponseError(`${what}: the answer is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  private async authHeaders(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
  ): Promise<Record<string, string>> {
    const auth = this.auth;
    if (auth === undefined) return headers;
    if ('apiKey' in auth) return { ...headers, 'x-api-key': auth.apiKey };
    if ('bearer' in auth) {
      const token = typeof auth.bearer === 'function' ? await auth.bearer() : auth.bearer;
      return { ...headers, authorization: `Bearer ${token}` };
    }
    return this.signer!(url, method, headers, body);
  }

  /** One attempt: sends, and reads the whole answer, within the timeout. */
  private async attempt(spec: RequestSpec, url: URL, what: string, signal?: AbortSignal): Promise<Answer> {
    const headers = await this.authHeaders(
      url,
      spec.method,
      { 'user-agent': `modelship-client/${VERSION}`, ...this.extraHeaders, ...spec.headers },
      spec.body,
    );
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await this.fetchFn(url, { method: spec.method, headers, body: spec.body, signal: combined });
      const body = new Uint8Array(await response.arrayBuffer());
      return { status: response.status, headers: headersOf(response), body };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw new TimeoutError(`${what}: no complete answer within ${this.timeoutMs} ms`, this.timeoutMs);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new NetworkError(`${what}: the request failed: ${detail}`, { cause: err });
    }
  }

  private async call(spec: RequestSpec, signal?: AbortSignal): Promise<Answer> {
    const url = new URL(this.base.href);
    url.pathname = `${this.basePath}${spec.path}`;
    const what = `${spec.method} ${url.pathname}`;
    for (let attempt = 1; ; attempt++) {
      const retriesLeft = attempt <= this.retry.max;
      let answer: Answer;
      try {
        answer = await this.attempt(spec, url, what, signal);
      } catch (err) {
        if (err instanceof NetworkError && retriesLeft) {
          await this.sleep(backoffMs(this.retry, attempt - 1, this.random), signal);
          continue;
        }
        throw err;
      }
      const { status } = answer;
      if ((status >= 200 && status < 300) || spec.accept?.includes(status)) return answer;
      // A 500 to a body over Lambda's invoke limit is most likely API Gateway's answer when Lambda refused
      // the event (README.md, "Payload limits"): sending the same megabytes again meets the same refusal.
      const overLambda =
        status === 500 && spec.body !== undefined ? lambdaBodyRefusal(spec.body, spec.headers?.['content-type']) : undefined;
      if (overLambda) throw this.overLambdaLimit(answer, what, attempt, overLambda.message, spec.protocol);
      const retryable = status === 429 || status >= 500;
      const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], this.clock.now());
      if (retryable && retriesLeft && (retryAfterMs === undefined || retryAfterMs <= this.retry.maxDelayMs)) {
        await this.sleep(retryAfterMs ?? backoffMs(this.retry, attempt - 1, this.random), signal);
        continue;
      }
      throw this.httpError(answer, what, attempt, retryAfterMs, spec.protocol);
    }
  }

  private overLambdaLimit(
    answer: Answer,
    what: string,
    attempts: number,
    refusal: string,
    protocol: RequestSpec['protocol'],
  ): PayloadTooLargeError {
    const message = serverMessage(answer.body);
    const hint = payloadHint(protocol);
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    return new PayloadTooLargeError(
      `${what} answered ${answer.status}${tries}${message !== undefined ? `: ${message}` : ''}, and not retried: ${refusal}, which a Lambda-backed route answers with a 500`,
      answer.status,
      message,
      answer.headers,
      attempts,
      hint,
    );
  }

  private httpError(
    answer: Answer,
    what: string,
    attempts: number,
    retryAfterMs: number | undefined,
    protocol: RequestSpec['protocol'],
  ): ModelClientError {
    const message = serverMessage(answer.body);
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    const text = `${what} answered ${answer.status}${tries}${message !== undefined ? `: ${message}` : ''}`;
    if (answer.status === 413) {
      const hint = payloadHint(protocol);
      // The server's own advice, when it gives one, already says what to change.
      const advice = message !== undefined && /smaller batch/.test(message) ? '' : ` (${hint})`;
      return new PayloadTooLargeError(`${text}${advice}`, answer.status, message, answer.headers, attempts, hint);
    }
    if (answer.status === 401 || answer.status === 403) return new AuthError(text, answer.status, message, answer.headers, attempts);
    if (answer.status === 429) {
      const seconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
      return new RateLimitedError(text, answer.status, message, answer.headers, attempts, seconds);
    }
    return new HttpError(text, answer.status, message, answer.headers, attempts);
  }
}
