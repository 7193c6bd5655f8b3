/**
 * The stage-wide throttle: like API Gateway's stage default, it limits every caller together, on top of
 * each key's usage plan, and it applies to callers that have no plan at all.
 */
import { DEV_PLAN, defaultDevConfig, parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { DEFAULT_STAGE_THROTTLE } from '../../lib/stage-throttle';
import { ManualClock } from '../helpers/clock';
import { makeTinyMlpPackage } from '../helpers/fixtures';

const A = 'stage-throttle-key-a-0123456789abcd';
const B = 'stage-throttle-key-b-0123456789abcd';
let running: RunningServer;
/** Moves only when the test moves it, so the stage's bucket refills only then. */
const clock = new ManualClock();

beforeAll(async () => {
  const { dir } = await makeTinyMlpPackage();
  running = await startServer({
    dirs: [dir],
    port: 0,
    clock,
    config: {
      // Each key alone could send 100 at once; the stage lets 6 through in all.
      plans: { wide: { rateLimit: 100, burstLimit: 100 } },
      apiKeys: [
        { name: 'a', value: A, plan: 'wide', enabled: true },
        { name: 'b', value: B, plan: 'wide', enabled: true },
      ],
      maxBodyBytes: 65536,
      throttle: { rateLimit: 1, burstLimit: 6 },
    },
  });
});
afterAll(() => running.close());

test('GIVEN a stage burst of 6 WHEN two keys send 5 each THEN exactly 6 pass and the rest get 429 naming the stage throttle', async () => {
  const statuses: number[] = [];
  let message = '';
  for (const key of [A, A, A, A, A, B, B, B, B, B]) {
    const res = await fetch(`${running.url}/v2/health/live`, { headers: { 'x-api-key': key } });
    statuses.push(res.status);
    if (res.status === 429) {
      message = ((await res.json()) as { error: string }).error;
      expect(res.headers.get('retry-after')).toBe('1');
    } else await res.arrayBuffer();
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
  expect(message).toBe('rate limit of 1 req/s (burst 6) exceeded (usage plan "stage throttle")');

  // One second later the stage has one token more, for whichever key asks first.
  clock.advance(1000);
  const after = await Promise.all(
    [B, A].map(async (key) => (await fetch(`${running.url}/v2/health/live`, { headers: { 'x-api-key': key } })).status),
  );
  expect(after.sort()).toEqual([200, 429]);
});

test('GIVEN a config without a throttle THEN the stage throttle ModelApi deploys applies: 100 requests/s, burst 200', () => {
  const config = parseServerConfig({ plans: { p: { rateLimit: 1, burstLimit: 1 } }, apiKeys: [{ name: 'k', value: A, plan: 'p' }] });
  expect(config.throttle).toEqual({ rateLimit: 100, burstLimit: 200 });
  expect(config.throttle).toEqual(DEFAULT_STAGE_THROTTLE);
});

test("GIVEN the dev config THEN its key's plan sits under the stage throttle, as a deployed plan does", () => {
  const dev = defaultDevConfig();
  const plan = dev.plans[DEV_PLAN];
  expect(dev.throttle).toEqual(DEFAULT_STAGE_THROTTLE);
  expect(plan.rateLimit).toBeLessThan(DEFAULT_STAGE_THROTTLE.rateLimit);
  expect(plan.burstLimit).toBeLessThan(DEFAULT_STAGE_THROTTLE.burstLimit);
});
