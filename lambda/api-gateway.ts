/**
 * Translation between API Gateway proxy events (REST API v1 and HTTP API v2 payloads) and the
 * transport-neutral HttpRequest/HttpResponse the router speaks, held to Lambda's payload limit on both
 * sides (lib/protocol/payload-limits.ts). Nothing else lives here.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaEventBodyRefusal, lambdaResultRefusal } from '../lib/protocol/payload-limits';
import { errorResponse, type HttpRequest, type HttpResponse } from '../lib/router/http';

export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;
export type ApiGatewayResult = APIGatewayProxyResult & APIGatewayProxyStructuredResultV2;

function isV2(event: ApiGatewayEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0';
}

/**
 * The protocol path starts at /v2. A named HTTP API stage ("/prod/v2/...") or a custom domain's base
 * path ("/models/v2/...") puts a prefix before it, which the routes do not care about.
 */
function protocolPath(path: string): string {
  const at = path.indexOf('/v2/');
  if (at > 0) return path.slice(at);
  if (at === -1 && path.endsWith('/v2')) return '/v2';
  return path;
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | null | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/**
 * A body over Lambda's payload limit never reaches a deployed function (API Gateway answers 500 for it);
 * one that reaches this handler anyway, run outside Lambda, is refused as Lambda would refuse it, with a
 * 413 that says why. The refusal is thrown when the router reads the body, inside its handle, so it
 * becomes the router's own 413 answer, counted and logged like every other.
 */
export function requestFromEvent(event: ApiGatewayEvent): HttpRequest {
  const raw = event.body ?? '';
  const base64 = event.isBase64Encoded === true;
  const refused = lambdaEventBodyRefusal(raw, base64);
  const headers = lowerCaseHeaders(event.headers);
  const method = isV2(event) ? event.requestContext.http.method : event.httpMethod;
  const path = protocolPath(isV2(event) ? event.rawPath : event.path);
  if (refused !== undefined) {
    return {
      method,
      path,
      headers,
      get body(): Uint8Array {
        throw refused;
      },
    };
  }
  return { method, path, headers, body: base64 ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8') };
}

/**
 * Binary bodies (the binary tensor extension) go back base64-encoded, as both payload formats require. An
 * answer whose result would be over Lambda's payload limit goes back as a 413 that names its size: Lambda
 * would fail the invocation instead, and API Gateway would answer an opaque 502.
 */
export function resultFromResponse(answer: HttpResponse): ApiGatewayResult {
  const refused = lambdaResultRefusal(answer);
  const response = refused === undefined ? answer : errorResponse(refused);
  const body = response.body;
  // Handed over as they are: the runtime only serializes them, and many responses share one headers object.
  const headers = response.headers;
  if (typeof body === 'string') return { statusCode: response.status, headers, body, isBase64Encoded: false };
  // A view, not Buffer.from(body), which would copy the tensor bytes before encoding them.
  const base64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
  return { statusCode: response.status, headers, body: base64, isBase64Encoded: true };
}

/**
 * A REST API (v1) proxy event for a JSON request, as API Gateway sends it: what the pre-traffic check sends
 * a new version, and what the inference handler sends itself to warm its own code at init.
 */
export function restProxyEvent(
  method: 'GET' | 'POST',
  path: string,
  body: string | null,
  requestId: string,
  stage: string,
): APIGatewayProxyEvent {
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
    requestContext: { requestId, stage, httpMethod: method, path, resourcePath: path } as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded: false,
  };
}
