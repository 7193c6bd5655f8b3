/**
 * The Open Inference Protocol v2 REST routes over a set of loaded engines. Transport-neutral: the local
 * server and the Lambda handler both turn their requests into HttpRequest and send back what this returns,
 * so every front answers every route, status and byte the same way. The router owns the HTTP side of
 * inference: it decodes a body with lib/protocol's codec, hands the engine an InferRequest, and encodes
 * the InferResult; the engine never sees a body, a header or a status.
 */
// The function's own module: the semver package index loads every range helper (~10 ms of cold start).
import type { InferenceEngine } from '../engine/engine';
import { decodeInferRequest } from '../protocol/decode';
import { encodeInferResponse } from '../protocol/encode';
import { BadRequestError, MethodNotAllowedError, NotFoundError, NotReadyError } from '../protocol/errors';
import { DEFAULT_TENSOR_LIMITS, type TensorLimits } from '../protocol/limits';
import { decodeRepositoryIndexRequest } from '../protocol/repository-index';
import {
  liveBody,
  modelMetadataBody,
  modelReadyBody,
  readyBody,
  repositoryIndexBody,
  serverMetadataBody,
  unknownVersionMessage,
} from '../protocol/responses';
import type { RepositoryEntry } from '../protocol/wire';
import { errorResponse, type HttpRequest, type HttpResponse, jsonResponse } from './http';

/** A package that could not be loaded; its routes answer 503 with the reason instead of vanishing. */
export interface LoadFailure {
  readonly name: string;
  readonly version?: string;
  readonly reason: string;
}

export type RouteName = 'server-metadata' | 'live' | 'ready' | 'repository-index' | 'model-metadata' | 'model-ready' | 'infer' | 'unknown';

/** What a front may want to know about each answered request: for metrics and access logs. */
export interface RouteEvent {
  readonly route: RouteName;
  readonly model?: string;
  readonly version?: string;
  readonly status: number;
  readonly durationMs: number;
  /** Set for 5xx answers: the error behind them, which never goes to the caller. */
  readonly error?: unknown;
}

export interface RouterOptions {
  /** Packages that were refused at load: their routes answer 503. @default - none */
  readonly failures?: readonly LoadFailure[];
  /** Called once per answered request. @default - nothing is reported */
  readonly onResult?: (event: RouteEvent) => void;
  /**
   * Ceilings on what one infer request may hold, checked while it is decoded, before anything is
   * allocated for it or onnxruntime runs. Every model behind the router shares them, as they share the
   * front's body limit. @default DEFAULT_TENSOR_LIMITS
   */
  readonly limits?: TensorLimits;
}

/**
 * POST .../infer for one engine: decode the body against the engine's manifest, run it, encode the answer.
 * Throws the codec's and the engine's ProtocolErrors; ModelRouter.handle turns them into responses. The
 * package and verify commands record and re-run golden samples through this too, so a package is checked
 * by the code that serves it.
 */
export async function inferResponse(
  engine: InferenceEngine,
  body: Uint8Array,
  headers: HttpRequest['headers'],
  limits: TensorLimits = DEFAULT_TENSOR_LIMITS,
): Promise<HttpResponse> {
  const request = decodeInferRequest(body, headers, engine.manifest, limits);
  const encoded = encodeInferResponse(await engine.infer(request), request);
  return { status: 200, headers: encoded.headers, body: encoded.body };
}

/**
 * Orders versions newest first. semver is loaded only when a model has two versions: it builds some
 * forty regular expressions as it loads, about 2 ms of every cold start (serve, Lambda INIT) that serves
 * one version per model.
 */
function newestFirst(a: InferenceEngine, b: InferenceEngine): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const rcompare = require('semver/functions/rcompare') as typeof import('semver/functions/rcompare');
  return rcompare(a.version, b.version);
}

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?\/?$/;

function decodeSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`${what} in the path is not valid percent-encoding`);
  }
}

export class ModelRouter {
  /** name -> engines, highest version first: an unversioned path reaches the newest. */
  private readonly models = new Map<string, InferenceEngine[]>();
  private readonly failures: readonly LoadFailure[];
  private readonly onResult?: (event: RouteEvent) => void;
  private readonly limits: TensorLimits;

  constructor(engines: readonly InferenceEngine[], options: RouterOptions = {}) {
    for (const e of engines) {
      const list = this.models.get(e.name) ?? [];
      if (list.some((x) => x.version === e.version)) throw new Error(`model ${e.name} version ${e.version} is loaded twice`);
      list.push(e);
      if (list.length > 1) list.sort(newestFirst);
      this.models.set(e.name, list);
    }
    this.failures = options.failures ?? [];
    this.onResult = options.onResult;
    this.limits = options.limits ?? DEFAULT_TENSOR_LIMITS;
  }

  /** Every engine being served. */
  engines(): InferenceEngine[] {
    return [...this.models.values()].flat();
  }

  /** Answers a request. Never throws: every failure becomes a JSON error response. */
  async handle(req: HttpRequest): Promise<HttpResponse> {
    const started = performance.now();
    const ctx: { route: RouteName; model?: string; version?: string } = { route: 'unknown' };
    let response: HttpResponse;
    let error: unknown;
    try {
      response = await this.route(req, ctx);
    } catch (err) {
      response = errorResponse(err);
      if (response.status >= 500) error = err;
    }
    this.onResult?.({ ...ctx, status: response.status, durationMs: performance.now() - started, error });
    return response;
  }

  private async route(req: HttpRequest, ctx: { route: RouteName; model?: string; version?: string }): Promise<HttpResponse> {
    const path = req.path;
    if (path === '/v2' || path === '/v2/') {
      ctx.route = 'server-metadata';
      allow(req, 'GET');
      return jsonResponse(200, serverMetadataBody());
    }
    if (path === '/v2/health/live') {
      ctx.route = 'live';
      allow(req, 'GET');
      return jsonResponse(200, liveBody());
    }
    if (path === '/v2/health/ready') {
      ctx.route = 'ready';
      allow(req, 'GET');
      // As Triton does by default: the server is ready only when every model it was given is.
      if (this.failures.length > 0)
        throw new NotReadyError(`not ready: ${this.failures.map((f) => `model '${f.name}' failed to load`).join('; ')}`);
      return jsonResponse(200, readyBody());
    }
    if (path === '/v2/repository/index') {
      ctx.route = 'repository-index';
      allow(req, 'POST');
      return jsonResponse(200, repositoryIndexBody(this.repositoryIndex(decodeRepositoryIndexRequest(req.body).readyOnly)));
    }
    const m = MODEL_PATH.exec(path);
    if (!m) throw new NotFoundError(`no route for ${req.method} ${path}; see GET /v2 and the Open Inference Protocol v2 paths`);
    const name = decodeSegment(m[1], 'model name');
    const version = m[2] === undefined ? undefined : decodeSegment(m[2], 'model version');
    const action = m[3];
    ctx.route = action === 'infer' ? 'infer' : action === 'ready' ? 'model-ready' : 'model-metadata';
    ctx.model = name;
    allow(req, action === 'infer' ? 'POST' : 'GET');
    const engine = this.find(name, version);
    ctx.version = engine.version;
    switch (action) {
      case 'infer':
        return inferResponse(engine, req.body, req.headers, this.limits);
      case 'ready':
        return jsonResponse(200, modelReadyBody(name, engine.version));
      default:
        return jsonResponse(
          200,
          modelMetadataBody(
            engine.manifest,
            this.models.get(name)!.map((e) => e.version),
            engine.labels,
          ),
        );
    }
  }

  /** Every model served, then every package refused, each group by name. */
  private repositoryIndex(readyOnly: boolean): RepositoryEntry[] {
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const served = [...this.models.entries()]
      .sort(([a], [b]) => byName({ name: a }, { name: b }))
      .flatMap(([, list]) => list.map((e): RepositoryEntry => ({ name: e.name, version: e.version, state: 'READY' })));
    if (readyOnly) return served;
    const refused = [...this.failures].sort(byName).map((f): RepositoryEntry => ({
      name: f.name,
      ...(f.version ? { version: f.version } : {}),
      state: 'UNAVAILABLE',
      reason: f.reason,
    }));
    return [...served, ...refused];
  }

  private find(name: string, version: string | undefined): InferenceEngine {
    const list = this.models.get(name);
    const failed = this.failures.find(
      (f) => f.name === name && (version === undefined || f.version === undefined || f.version === version),
    );
    const engine = version === undefined ? list?.[0] : list?.find((e) => e.version === version);
    if (engine) return engine;
    if (failed) throw new NotReadyError(`model '${name}' is not ready: ${failed.reason}`);
    if (!list) throw new NotFoundError(`unknown model '${name}'; this server has: ${[...this.models.keys()].join(', ') || 'no models'}`);
    throw new NotFoundError(
      unknownVersionMessage(
        name,
        version!,
        list.map((e) => e.version),
      ),
    );
  }
}

function allow(req: HttpRequest, method: 'GET' | 'POST'): void {
  if (req.method === method || (method === 'GET' && req.method === 'HEAD')) return;
  throw new MethodNotAllowedError(`${req.method} is not allowed here; use ${method}`, method === 'GET' ? ['GET', 'HEAD'] : ['POST']);
}
