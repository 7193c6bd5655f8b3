/**
 * The answers API Gateway gives itself, before any integration runs: missing or bad credentials (401,
 * 403), throttles and quotas (429), and its own failures. Each keeps the protocol's error shape.
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';

/** Errors as the protocol writes them: {"error": "..."}; messageString is already a JSON string. */
const ERROR_TEMPLATE = { 'application/json': '{"error":$context.error.messageString}' };

export function addGatewayResponses(api: apigw.RestApi, cors: apigw.CorsOptions | undefined): void {
  const origin = cors?.allowOrigins.length === 1 ? { 'Access-Control-Allow-Origin': `'${cors.allowOrigins[0]}'` } : undefined;
  const responses: Array<[string, apigw.ResponseType, Record<string, string> | undefined]> = [
    ['Default4xx', apigw.ResponseType.DEFAULT_4XX, undefined],
    ['Default5xx', apigw.ResponseType.DEFAULT_5XX, undefined],
    // API Gateway's token buckets refill every second; a quota's period is far longer, but a retry soon is harmless.
    ['Throttled', apigw.ResponseType.THROTTLED, { 'Retry-After': "'1'" }],
    ['QuotaExceeded', apigw.ResponseType.QUOTA_EXCEEDED, { 'Retry-After': "'3600'" }],
  ];
  for (const [id, type, headers] of responses) {
    api.addGatewayResponse(id, {
      type,
      templates: ERROR_TEMPLATE,
      ...(headers || origin ? { responseHeaders: { ...headers, ...origin } } : {}),
    });
  }
}
