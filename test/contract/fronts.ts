/**
 * The fronts the contract suite drives with the same requests: the router in process, the Lambda handler
 * with REST API (v1) and HTTP API (v2) proxy events, and the local HTTP server over a real socket.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ServerConfig } from '../../lib/local/config';
import { loadPackages } from '../../lib/local/load-packages';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { HttpRequest } from '../../lib/router/http';
import { ModelRouter } from '../../lib/router/router';
import type { ApiGatewayEvent, ApiGatewayResult } from '../../lambda/api-gateway';
import { send } from '../helpers/http';

export type FrontName = 'router' | 'lambda REST API event' | 'lambda HTTP API event' | 'local server';

export interface FrontResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface Front {
  readonly name: FrontName;
  send(req: HttpRequest): Promise<FrontResponse>;
  close(): Promise<void>;
}

export const API_KEY = 'contract-suite-key-0123456789abcdef';

export const CONTRACT_CONFIG: ServerConfig = {
  plans: { contract: { rateLimit: 1e6, burstLimit: 1e6 } },
  apiKeys: [{ name: 'contract', value: API_KEY, plan: 'contract', enabled: true }],
  // Far above every case's body, and small enough that the 413 case's body fits the socket buffers: a
  // server that answers early and closes must not race the client's upload.
  maxBodyBytes: 64 * 1024,
};

const BINARY_TYPES = /octet-stream|sagemaker-triton\.binary/;

function eventBody(req: HttpRequest): { body: string | null; isBase64Encoded: boolean } {
  if (req.body.byteLength === 0) return { body: null, isBase64Encoded: false };
  // API Gateway base64-encodes binary media types and passes text through, so the handler meets both.
  const binary = BINARY_TYPES.test(req.headers['content-type'] ?? '');
  const buf = Buffer.from(req.body);
  return binary ? { body: buf.toString('base64'), isBase64Encoded: true } : { body: buf.toString('utf8'), isBase64Encoded: false };
}

function headerRecord(req: HttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  // API Gateway keeps the caller's header case in REST events: send some mixed case to prove it is handled.
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase())] = v;
  return out;
}

export function restEvent(req: HttpRequest, stagePrefix = ''): APIGatewayProxyEvent {
  return {
    resource: '/{proxy+}',
    path: stagePrefix + req.path,
    httpMethod: req.method,
    headers: headerRecord(req),
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: req.path.slice(1) },
    stageVariables: null,
    requestContext: { requestId: 'rest-request-id', stage: 'prod' } as APIGatewayProxyEvent['requestContext'],
    ...eventBody(req),
  };
}

export function httpApiEvent(req: HttpRequest, stagePrefix = ''): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = v;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: stagePrefix + req.path,
    rawQueryString: '',
    headers,
    requestContext: {
      requestId: 'http-request-id',
      stage: '$default',
      http: { method: req.method, path: stagePrefix + req.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
    } as APIGatewayProxyEventV2['requestContext'],
    ...eventBody(req),
    body: eventBody(req).body ?? undefined,
  };
}

function fromResult(result: ApiGatewayResult): FrontResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : Buffer.from(result.body ?? '', 'utf8');
  return { status: result.statusCode ?? 200, headers, body };
}

/** The router over packages loaded as `modelship serve` loads them: a refused one answers 503. */
export async function routerFront(dirs: readonly string[]): Promise<Front> {
  const { engines, failures } = await loadPackages(dirs);
  const router = new ModelRouter(engines, { failures });
  return {
    name: 'router',
    async send(req) {
      const r = await router.handle(req);
      return { status: r.status, headers: { ...r.headers }, body: Buffer.from(r.body) };
    },
    async close() {
      await Promise.all(engines.map((e) => e.release()));
    },
  };
}

type Handler = (event: ApiGatewayEvent) => Promise<ApiGatewayResult>;

/** Loads lambda/inference.ts once per package, as Lambda would: one function, one model, MODEL_DIR at init. */
export function loadLambdaHandler(dir: string): Handler {
  const previous = process.env.MODEL_DIR;
  process.env.MODEL_DIR = dir;
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module per package needs a synchronous load inside isolateModules
    handler = (require('../../lambda/inference') as { handler: Handler }).handler;
  });
  process.env.MODEL_DIR = previous;
  return handler!;
}

export function lambdaFront(kind: 'rest' | 'http', handlers: ReadonlyMap<string, Handler>): Front {
  const fallback = [...handlers.values()][0];
  return {
    name: kind === 'rest' ? 'lambda REST API event' : 'lambda HTTP API event',
    async send(req) {
      const model = /^\/v2\/models\/([^/]+)/.exec(req.path)?.[1];
      const handler = (model && handlers.get(decodeURIComponent(model))) || fallback;
      const event = kind === 'rest' ? restEvent(req) : httpApiEvent(req, '/prod');
      return fromResult(await handler(event));
    },
    async close() {},
  };
}

export async function localFront(dirs: readonly string[]): Promise<Front & { running: RunningServer }> {
  const running = await startServer({ dirs, port: 0, config: CONTRACT_CONFIG });
  return {
    name: 'local server',
    running,
    async send(req) {
      // node:http rather than fetch: it keeps an answer that arrives before the server cuts an upload short (413).
      const res = await send(running.url + req.path, {
        method: req.method,
        headers: { ...Object.fromEntries(Object.entries(req.headers).filter(([, v]) => v !== undefined)), 'x-api-key': API_KEY },
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.from(req.body),
        agent: false,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.status, headers, body: res.body };
    },
    close: () => running.close(),
  };
}
