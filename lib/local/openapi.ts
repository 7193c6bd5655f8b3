/**
 * GET /openapi.json on `modelship serve`: the document of this running server, built once, on the
 * first request, by the generator a ModelApi uses at synth (lib/openapi): the models it serves with
 * their golden samples as examples, the credentials its config takes, its body limit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceEngine } from '../engine/engine';
import type { SecurityInput } from '../openapi/security';
import { parseJson, stringifyJson } from '../protocol/json';
import { MethodNotAllowedError } from '../protocol/errors';
import { errorResponse, jsonResponse, type HttpResponse } from '../router/http';
import type { ModelRouter } from '../router/router';
import type { ServerConfig } from './config';

/** The schemes a config accepts, in the order the authenticator tries them. */
export function configSecurity(config: ServerConfig): SecurityInput[] {
  const schemes: SecurityInput[] = [];
  if (config.apiKeys.length > 0) schemes.push({ kind: 'apiKey' });
  if (config.jwt !== undefined) {
    const audience = typeof config.jwt.audience === 'string' ? [config.jwt.audience] : config.jwt.audience;
    schemes.push({ kind: 'jwt', issuer: config.jwt.issuer, audience });
  }
  if (config.sigv4 !== undefined) schemes.push({ kind: 'sigv4', region: config.sigv4.region });
  return schemes;
}

/** The golden sample requests of a loaded package, exactly as recorded (64-bit integers included). */
function goldenRequests(engine: InferenceEngine): unknown[] {
  return engine.manifest.samples.map((s) => {
    const path = join(engine.dir, s.request);
    return parseJson(readFileSync(path, 'utf8'), path);
  });
}

/** Builds the document's JSON text for a server at `url`; the caller caches it, since nothing in it changes. */
export function localOpenApiJson(router: ModelRouter, config: ServerConfig, url: string): string {
  // Loaded on the first request for the document only: the generator's schemas cost ~60 ms to load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load on a synchronous path
  const { openApiDocument } = require('../openapi/document') as typeof import('../openapi/document');
  const newestFirst = router.engines();
  const seen = new Set<string>();
  const models = newestFirst
    .filter((e) => !seen.has(e.name) && seen.add(e.name))
    .map((e) => ({
      metadata: { ...e.metadata(), versions: newestFirst.filter((o) => o.name === e.name).map((o) => o.version) },
      examples: goldenRequests(e),
    }));
  const doc = openApiDocument({
    server: { url, description: 'modelship serve' },
    models,
    security: configSecurity(config),
    maxBodyBytes: config.maxBodyBytes,
    repositoryIndex: true,
    documentRoute: true,
  });
  return stringifyJson(doc);
}

/** The route: GET or HEAD /openapi.json, answered from `json()`, which is called once. */
export function openApiRoute(json: () => string): (method: string, path: string) => HttpResponse | undefined {
  let text: string | undefined;
  return (method, path) => {
    if (path !== '/openapi.json') return undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      return errorResponse(new MethodNotAllowedError(`${method} is not allowed here; use GET`, ['GET', 'HEAD']));
    }
    text ??= json();
    return jsonResponse(200, text, { 'cache-control': 'no-store' });
  };
}
