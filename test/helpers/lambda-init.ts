/**
 * Loading lambda/inference.ts as a Lambda init would: a fresh module in an environment like the
 * function's, with S3 at a local server. For the tests of a registry-sourced function's init.
 */
import type { Context } from 'aws-lambda';
import { S3RVER_CREDENTIALS } from '../registry/s3-server';

export type InferenceHandler = (event: unknown, context?: Context) => Promise<{ statusCode: number; body: string }>;

export const LAMBDA_CONTEXT = {
  awsRequestId: 'init-test',
  functionName: 'fn',
  getRemainingTimeInMillis: () => 10000,
} as unknown as Context;

/** Replaces the AWS_ and MODEL_ variables with those of a function whose S3 is `s3Endpoint`, plus `env`. */
export function setFunctionEnv(s3Endpoint: string, env: Record<string, string>): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_') || k.startsWith('MODEL_')) delete process.env[k];
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ...env,
  });
}

/** Loads lambda/inference.ts afresh, in that environment; the caller restores process.env afterwards. */
export function loadInferenceHandler(s3Endpoint: string, env: Record<string, string>): InferenceHandler {
  setFunctionEnv(s3Endpoint, env);
  let mod: { handler: InferenceHandler } | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module per environment needs a synchronous load inside isolateModules
    mod = require('../../lambda/inference') as { handler: InferenceHandler };
  });
  return mod!.handler;
}
