/**
 * Translation between API Gateway proxy events (REST API v1 and HTTP API v2 payloads) and the
 * transport-neutral HttpRequest/HttpResponse the router speaks. Nothing else lives here.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRequest, HttpResponse } from '../lib/router/http';

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

export function requestFromEvent(event: ApiGatewayEvent): HttpRequest {
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const headers = lowerCaseHeaders(event.headers);
  if (isV2(event)) {
    return { method: event.requestContext.http.method, path: protocolPath(event.rawPath), headers, body };
  }
  return { method: event.httpMethod, path: protocolPath(event.path), headers, body };
}

/** Binary bodies (the binary tensor extension) go back base64-encoded, as both payload formats require. */
export function resultFromResponse(response: HttpResponse): ApiGatewayResult {
  const body = response.body;
  // Handed over as they are: the runtime only serializes them, and many responses share one headers object.
  const headers = response.headers;
  if (typeof body === 'string') return { statusCode: response.status, headers, body, isBase64Encoded: false };
  // A view, not Buffer.from(body), which would copy the tensor bytes before encoding them.
  const base64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
  return { statusCode: response.status, headers, body: base64, isBase64Encoded: true };
}
