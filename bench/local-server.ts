/**
 * P2's subject: the local server as `modelship serve` runs it (startServer), with an API key, a usage plan
 * whose limits are set far above what the bench can send, validation on and no access log. Run as a child
 * process: `node local-server.js PACKAGE_DIR` with BENCH_API_KEY set (and BENCH_INTRA_OP_THREADS, optionally, for
 * onnxruntime's intra-op thread count); it prints `{"url": ...}` on stdout.
 */
import { DEFAULT_MAX_BODY_BYTES } from '../lib/local/config';
import { startServer } from '../lib/local/serve';

export const BENCH_PLAN = 'bench';

async function main(): Promise<void> {
  const dir = process.argv[2];
  const key = process.env.BENCH_API_KEY;
  if (!dir || !key) throw new Error('usage: BENCH_API_KEY=... local-server PACKAGE_DIR');
  const threads = Number(process.env.BENCH_INTRA_OP_THREADS) || undefined;
  const running = await startServer({
    dirs: [dir],
    port: 0,
    engine: threads ? { sessionOptions: { intraOpNumThreads: threads } } : undefined,
    config: {
      plans: { [BENCH_PLAN]: { rateLimit: 1e9, burstLimit: 1e9 } },
      apiKeys: [{ name: 'bench', value: key, plan: BENCH_PLAN, enabled: true }],
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      // Set high, like the plan: the bench measures the work of limiting, never a refusal.
      throttle: { rateLimit: 1e9, burstLimit: 1e9 },
    },
  });
  if (running.failures.length > 0) throw new Error(`package refused: ${running.failures.map((f) => f.reason).join('; ')}`);
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
  process.on('SIGTERM', () => void running.close().then(() => process.exit(0)));
}

main().catch((err: Error) => {
  process.stderr.write(`local-server: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
