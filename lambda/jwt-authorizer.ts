/**
 * API Gateway TOKEN authorizer for bearer JWTs from any OIDC issuer (a RestApi has no native JWT
 * authorizer). The check itself is the local server's: signature against the issuer's JWKS, issuer,
 * audience, exp and nbf, with asymmetric algorithms only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { jwtScheme } from '../lib/local/jwt-auth';
import { UnauthorizedError } from '../lib/protocol/errors';
import { requireEnv } from '../lib/util/env';

const requiredEnv = (name: string): string => requireEnv(process.env, name);

function audienceFromEnv(): string[] {
  const value: unknown = JSON.parse(requiredEnv('JWT_AUDIENCE'));
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string' && a !== '')) {
    throw new Error('environment variable JWT_AUDIENCE must be a JSON array of non-empty strings');
  }
  return value as string[];
}

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelship-jwt-authorizer' });

const scheme = jwtScheme({
  issuer: requiredEnv('JWT_ISSUER'),
  audience: audienceFromEnv(),
  // A JWKS shipped in the code (the hardened profile, whose VPC has no route out), else the issuer's URL.
  ...(process.env.JWKS_FILE ? { jwksFile: process.env.JWKS_FILE } : { jwksUrl: requiredEnv('JWKS_URI') }),
  clockToleranceSeconds: 0,
});

/**
 * The policy covers every method of the stage, not just the one called: API Gateway caches the
 * decision per token and reuses it for the token's next requests, whatever they call.
 */
export function stageWildcard(methodArn: string): string {
  // arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path...>
  const [prefix, stage] = methodArn.split('/');
  if (prefix === undefined || stage === undefined) throw new Error(`unexpected methodArn ${methodArn}`);
  return `${prefix}/${stage}/*/*`;
}

export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  let principalId: string;
  try {
    principalId = (await scheme.authenticate({ authorization: event.authorizationToken })).id;
  } catch (err) {
    // This exact message is how a Lambda authorizer makes API Gateway answer 401.
    if (err instanceof UnauthorizedError) {
      // The reason names the failed check and never repeats the token.
      logger.info('token refused', { reason: err.message });
      throw new Error('Unauthorized');
    }
    throw err;
  }
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
    },
    context: { principal: principalId },
  };
}
