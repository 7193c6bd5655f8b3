/**
 * CodeDeploy pre-traffic hook: sends the package's golden samples to the new version before it takes
 * any traffic, and reports Succeeded only when every answer matches. Any failure, including an invoke
 * error or timeout, reports Failed, and CodeDeploy rolls the deployment back.
 *
 * The golden samples ship in this function's own asset (GOLDEN_DIR), not in the version under test, so
 * a broken version can never vouch for itself. For a registry package the hook fetches the package itself
 * at init (MODEL_S3_*), checked against the same sha256 with its own read grant, and reads them there.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { packageDirFromEnv } from '../lib/registry/package-source';
import { signatureCheckFromEnv } from '../lib/trust/check-from-env';
import { checkVersion, type GoldenSet, readGoldenSet } from './pre-traffic-check';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelship-pre-traffic' });

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The qualified ARN of the version under test. */
const TARGET = requiredEnv('TARGET_FUNCTION_ARN');
const INVOKE_TIMEOUT_MS = Number(requiredEnv('INVOKE_TIMEOUT_MS'));
if (!Number.isInteger(INVOKE_TIMEOUT_MS) || INVOKE_TIMEOUT_MS <= 0) {
  throw new Error(`environment variable INVOKE_TIMEOUT_MS must be a positive integer; got ${process.env.INVOKE_TIMEOUT_MS}`);
}
const GOLDEN_SOURCE = process.env.GOLDEN_DIR || `the registry package ${process.env.MODEL_S3_KEY ?? ''}`;

/**
 * Read once, at init. Unreadable samples (or a registry package that cannot be fetched or fails its
 * sha256) cannot be fixed by retrying, but the hook must still report: without a status CodeDeploy would
 * wait an hour for one. So the error is kept and reported as Failed.
 */
const checkSignature = signatureCheckFromEnv();
// The hook's own asset holds the manifest, the signature and the samples, not the model.
const presentFilesOnly = !process.env.MODEL_S3_BUCKET;
const goldenReady: Promise<GoldenSet | Error> = packageDirFromEnv('GOLDEN_DIR')
  .then(async (dir) => {
    // The samples must be the signed ones: a swapped model with swapped samples would otherwise pass.
    await checkSignature?.(dir, { presentFilesOnly });
    return readGoldenSet(dir);
  })
  .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));

const lambda = new LambdaClient({});
const codedeploy = new CodeDeployClient({});

/** Time kept back from the hook's own timeout to report the status. */
const REPORT_MARGIN_MS = 5000;

/** What CodeDeploy sends a lifecycle hook. */
export interface LifecycleHookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

export async function handler(
  event: LifecycleHookEvent,
  context?: Context,
): Promise<{ status: 'Succeeded' | 'Failed'; problems: string[] }> {
  if (context) logger.addContext(context);
  logger.appendKeys({ deploymentId: event.DeploymentId, target: TARGET });
  let problems: string[];
  const golden = await goldenReady;
  if (golden instanceof Error) {
    problems = [`the golden samples in ${GOLDEN_SOURCE} cannot be read: ${golden.message}`];
  } else {
    try {
      problems = await checkVersion({
        client: lambda,
        functionName: TARGET,
        golden,
        timeoutMs: INVOKE_TIMEOUT_MS,
        requestIdPrefix: `pre-traffic-${event.DeploymentId}`,
        timeLeftMs: context ? () => context.getRemainingTimeInMillis() - REPORT_MARGIN_MS : undefined,
      });
    } catch (err) {
      problems = [`the check itself failed: ${err instanceof Error ? err.message : String(err)}`];
    }
  }
  const status = problems.length === 0 ? 'Succeeded' : 'Failed';
  if (status === 'Failed') logger.error('the new version does not answer its golden samples', { problems });
  else logger.info('the new version answers its golden samples', { samples: golden instanceof Error ? 0 : golden.samples.length });
  await codedeploy.send(
    new PutLifecycleEventHookExecutionStatusCommand({
      deploymentId: event.DeploymentId,
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status,
    }),
  );
  return { status, problems };
}
