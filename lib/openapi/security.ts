/**
 * The credentials a server takes, as OpenAPI security schemes. The local server describes its config
 * (lib/local/openapi.ts), a ModelApi its ApiAuth (lib/constructs/private/openapi-asset.ts); both end here.
 */
import type { JsonSchema } from './json-schema';

/** One kind of credential a server accepts. */
export type SecurityInput =
  | { readonly kind: 'apiKey' }
  | { readonly kind: 'jwt'; readonly issuer?: string; readonly audience?: readonly string[] }
  | { readonly kind: 'sigv4'; readonly region?: string }
  | { readonly kind: 'cognito' };

const NAMES: Readonly<Record<SecurityInput['kind'], string>> = { apiKey: 'apiKey', jwt: 'bearerJwt', sigv4: 'sigv4', cognito: 'cognito' };

function scheme(input: SecurityInput): JsonSchema {
  switch (input.kind) {
    case 'apiKey':
      return { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key, in x-api-key as API Gateway takes it' };
    case 'jwt': {
      const claims = [
        input.issuer === undefined ? undefined : `issuer ${input.issuer}`,
        input.audience === undefined ? undefined : `audience ${input.audience.join(' or ')}`,
      ].filter((c) => c !== undefined);
      return {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: `A JWT, checked for signature, expiry${claims.length ? `, ${claims.join(', ')}` : ''}`,
      };
    }
    case 'sigv4':
      // How API Gateway itself exports IAM auth: OpenAPI has no scheme for request signing.
      return {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description: `AWS Signature Version 4 for the service execute-api${input.region ? ` in ${input.region}` : ''}, with x-amz-date (and x-amz-security-token for temporary credentials)`,
        'x-amazon-apigateway-authtype': 'awsSigv4',
      };
    case 'cognito':
      return { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A token of the Cognito user pools the API trusts' };
  }
}

/** The document's securitySchemes and its top-level requirement: any one of the schemes. */
export function securityOf(inputs: readonly SecurityInput[]): { schemes: JsonSchema; requirement: Array<Record<string, string[]>> } {
  if (inputs.length === 0) throw new Error('an OpenAPI document of a modelship server needs at least one security scheme');
  const schemes: JsonSchema = {};
  for (const input of inputs) schemes[NAMES[input.kind]] = scheme(input);
  return { schemes, requirement: Object.keys(schemes).map((name) => ({ [name]: [] })) };
}
