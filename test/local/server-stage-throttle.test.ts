/**
 * The stage-wide throttle: like API Gateway's stage default, it limits every caller together, on top of
 * each key's usage plan, and it applies to callers that have no plan at all.
 */
import { startServer, type RunningServer } from '../../lib/local/serve';
import { parseServerConfig } from '../../lib/local/config';
import { makeTinyMlpPackage } from '../helpers/fixtures';

const A = 'stage-throttle-key-a-0123456789abcd';
const B = 'stage-throttle-key-b-0123456789abcd';
let running: RunningServer;

beforeAll(async () => {
  const { dir } = await makeTinyMlpPackage();
  running = await startServer({
    dirs: [dir],
    port: 0,
    config: {
      // Each key alone could send 100 at once; the stage lets 6 through in all.
      plans: { wide: { rateLimit: 100, burstLimit: 100 } },
      apiKeys: [{ name: 'a', value: A, plan: 'wide', enabled: true }, { name: 'b', value: B, plan: 'wide', enabled: true }],
      maxBodyBytes: 65536,
      throttle: { rateLimit: 0.001, burstLimit: 6 },
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
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } else await res.arrayBuffer();
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
  expect(message).toMatch(/rate limit of 0\.001 req\/s \(burst 6\) exceeded \(usage plan "stage throttle"\)/);
});

test('GIVEN a config without a throttle THEN API Gateway\'s default stage throttle applies', () => {
  const config = parseServerConfig({ plans: { p: { rateLimit: 1, burstLimit: 1 } }, apiKeys: [{ name: 'k', value: A, plan: 'p' }] });
  expect(config.throttle).toEqual({ rateLimit: 10000, burstLimit: 5000 });
});
