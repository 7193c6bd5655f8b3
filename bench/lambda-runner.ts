/**
 * Runs in the Lambda layout (bench/lambda-layout.ts), as the Lambda runtime would: requires the handler from
 * LAMBDA_TASK_ROOT, then `node lambda-runner.js cold EVENTS` answers the infer event and prints `answered
 * <status>` (the parent times spawn -> that line), and `node lambda-runner.js warm EVENTS N` waits for INIT
 * (a /v2/health/ready event), then times the first infer event and N more, and prints `result` and a JSON line.
 * In warm mode it also times each `session.run` inside those events (`runMs`, from the call to its promise
 * settling), by wrapping the run method of the layer's onnxruntime-node, which is the module the handler's
 * bundle requires: it shows how much of the first event is the native run itself.
 * Copied next to the layout, so it reaches nothing of the project but the handler and the layer.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded as the Lambda runtime loads a handler
const { readFileSync } = require('node:fs') as typeof import('node:fs');

interface Events {
  readonly ready: unknown;
  readonly infer: unknown;
}
type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
/** InferenceSession's run, as the runner wraps it: the class behind onnxruntime-node's factory type. */
type Run = (this: unknown, ...args: unknown[]) => Promise<unknown>;

const context = { awsRequestId: 'bench', functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, getRemainingTimeInMillis: () => 30_000 };

async function main(): Promise<void> {
  const [mode, eventsFile, count] = process.argv.slice(2);
  const events = JSON.parse(readFileSync(eventsFile, 'utf8')) as Events;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
  const { handler } = require(`${process.env.LAMBDA_TASK_ROOT}/index.js`) as { handler: Handler };
  if (mode === 'cold') {
    const r = await handler(events.infer, context);
    process.stdout.write(`answered ${r.statusCode}\n`);
    return;
  }
  const runMs: number[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the layer's copy, found through NODE_PATH as the handler finds it
  const { InferenceSession } = require('onnxruntime-node') as { InferenceSession: { prototype: { run: Run } } };
  const { run } = InferenceSession.prototype;
  InferenceSession.prototype.run = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const answer = run.apply(this, args);
    void answer.then(
      () => runMs.push(performance.now() - t0),
      () => undefined,
    );
    return answer;
  };
  const ready = await handler(events.ready, context);
  if (ready.statusCode !== 200) throw new Error(`ready answered ${ready.statusCode}`);
  const time = async () => {
    const t0 = performance.now();
    const r = await handler(events.infer, context);
    if (r.statusCode !== 200) throw new Error(`infer answered ${r.statusCode}`);
    return performance.now() - t0;
  };
  const initRuns = runMs.length;
  const firstMs = await time();
  const warmMs: number[] = [];
  for (let i = 0; i < Number(count); i++) warmMs.push(await time());
  // One run per infer event: the runs after INIT's, in event order.
  process.stdout.write(`result ${JSON.stringify({ firstMs, warmMs, runMs: runMs.slice(initRuns) })}\n`);
}

export {};

main().catch((err: Error) => {
  process.stderr.write(`lambda-runner: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
