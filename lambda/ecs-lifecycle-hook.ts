/**
 * ECS deployment lifecycle hook of EcsGpuModel, run at POST_TEST_TRAFFIC_SHIFT: the test listener then
 * routes to the new tasks only, and production traffic has not moved. It sends the package's golden
 * samples there and answers SUCCEEDED only when every answer matches. Anything else, including a
 * refused connection or a timeout, answers FAILED, and ECS rolls back to the old tasks, which never
 * stopped serving.
 *
 * ECS takes the verdict from the return value, so the function calls no AWS API: its role writes its logs
 * and attaches it to the VPC, where the test listener is, and nothing else. The golden samples ship in its own asset (GOLDEN_DIR), never in the tasks under test.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { requireEnv } from '../lib/util/env';
import { checkTestListener, type GoldenSet, readGoldenSet } from './pre-traffic-check';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelship-ecs-lifecycle-hook' });

/** `http://<load balancer>:<test port>`. */
const TEST_LISTENER_URL = requireEnv(process.env, 'TEST_LISTENER_URL', "the test listener's http:// URL");
const REQUEST_TIMEOUT_MS = Number(requireEnv(process.env, 'REQUEST_TIMEOUT_MS'));
if (!Number.isInteger(REQUEST_TIMEOUT_MS) || REQUEST_TIMEOUT_MS <= 0) {
  throw new Error(`environment variable REQUEST_TIMEOUT_MS must be a positive integer; got ${process.env.REQUEST_TIMEOUT_MS}`);
}

/**
 * Read once, at init. Unreadable samples cannot be fixed by retrying, but the hook must still answer, so
 * the error is kept and answered as FAILED rather than thrown: a failed init also rolls the deployment
 * back, but this way the log of the invocation says why.
 */
const GOLDEN_DIR = requireEnv(process.env, 'GOLDEN_DIR', "the golden samples' directory in the function's asset");
const golden: GoldenSet | Error = readGoldenOrError(GOLDEN_DIR);

function readGoldenOrError(dir: string): GoldenSet | Error {
  try {
    return readGoldenSet(dir);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Time kept back from the function's own timeout to return the verdict. */
const REPORT_MARGIN_MS = 5000;

/**
 * What ECS sends a Lambda lifecycle hook: the common payload of every stage (Amazon ECS Developer Guide,
 * "Lifecycle hooks for Amazon ECS service deployments"). The check needs none of it; it is logged.
 */
export interface EcsLifecycleHookEvent {
  readonly serviceArn?: string;
  readonly targetServiceRevisionArn?: string;
  readonly testTrafficWeights?: Readonly<Record<string, number>>;
  readonly productionTrafficWeights?: Readonly<Record<string, number>>;
}

export type HookStatus = 'SUCCEEDED' | 'FAILED';

/** The verdict and, for the log and the tests, why. */
export async function verdict(event: EcsLifecycleHookEvent, context?: Context): Promise<{ hookStatus: HookStatus; problems: string[] }> {
  if (context) logger.addContext(context);
  logger.appendKeys({
    serviceArn: event.serviceArn,
    targetServiceRevisionArn: event.targetServiceRevisionArn,
    testListener: TEST_LISTENER_URL,
  });
  let problems: string[];
  if (golden instanceof Error) {
    problems = [`the golden samples in ${GOLDEN_DIR} cannot be read: ${golden.message}`];
  } else {
    try {
      problems = await checkTestListener({
        baseUrl: TEST_LISTENER_URL,
        golden,
        timeoutMs: REQUEST_TIMEOUT_MS,
        timeLeftMs: context ? () => context.getRemainingTimeInMillis() - REPORT_MARGIN_MS : undefined,
      });
    } catch (err) {
      problems = [`the check itself failed: ${err instanceof Error ? err.message : String(err)}`];
    }
  }
  const hookStatus: HookStatus = problems.length === 0 ? 'SUCCEEDED' : 'FAILED';
  if (hookStatus === 'FAILED') logger.error('the new tasks do not answer their golden samples', { problems });
  else logger.info('the new tasks answer their golden samples', { samples: golden instanceof Error ? 0 : golden.samples.length });
  return { hookStatus, problems };
}

/** Returns only what ECS reads: `hookStatus`. The problems are in the log. */
export async function handler(event: EcsLifecycleHookEvent, context?: Context): Promise<{ hookStatus: HookStatus }> {
  const { hookStatus } = await verdict(event, context);
  return { hookStatus };
}
