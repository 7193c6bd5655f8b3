/**
 * Usage-plan limits over HTTP against a running local server: the token bucket's burst, its steady refill
 * rate, the per-DAY quota, and independence between keys. The server reads a clock the test moves by
 * hand, so every count is exact and no verdict depends on the time of day or on how fast this machine is.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { Manifest } from '../../lib/package/manifest';
import { ManualClock, WED_NOON } from '../helpers/clock';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { errorMessage, send, type HttpAnswer } from '../helpers/http';

const KEYS = {
  burst: 'burst-key-0123456789abcdefghijklmn',
  burstTwin: 'burst-twin-key-0123456789abcdefghi',
  steady: 'steady-key-0123456789abcdefghijklm',
  quota: 'quota-key-0123456789abcdefghijklmn',
  other: 'other-key-0123456789abcdefghijklmn',
} as const;

const BURST_PLAN = { rateLimit: 5, burstLimit: 10 };
const STEADY_PLAN = { rateLimit: 10, burstLimit: 5 };

const clock = new ManualClock(WED_NOON);
let running: RunningServer;
let body: string;

function infer(key: string, agent?: Agent): Promise<HttpAnswer> {
  return send(`${running.url}/v2/models/tiny-mlp/infer`, {
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body,
    agent,
  });
}

beforeAll(async () => {
  const pkg = await makeTinyMlpPackage(tempDir('modelship-limits-'));
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'modelship.json'), 'utf8')) as Manifest;
  body = readFileSync(join(pkg.dir, manifest.samples[0].request), 'utf8');
  running = await startServer({
    dirs: [pkg.dir],
    port: 0,
    clock,
    config: parseServerConfig({
      plans: {
        burst: BURST_PLAN,
        steady: STEADY_PLAN,
        daily: { rateLimit: 100, burstLimit: 100, quota: { limit: 5, period: 'DAY' } },
        roomy: { rateLimit: 10_000, burstLimit: 10_000 },
      },
      apiKeys: [
        { name: 'burst', value: KEYS.burst, plan: 'burst' },
        { name: 'burst-twin', value: KEYS.burstTwin, plan: 'burst' },
        { name: 'steady', value: KEYS.steady, plan: 'steady' },
        { name: 'quota', value: KEYS.quota, plan: 'daily' },
        { name: 'other', value: KEYS.other, plan: 'roomy' },
      ],
      // Well above what these tests send, so that only the plans under test refuse anything.
      throttle: { rateLimit: 100_000, burstLimit: 100_000 },
    }),
  });
});

afterAll(() => running.close());

describe('burst', () => {
  test('GIVEN a plan {rateLimit 5, burstLimit 10} WHEN 20 requests arrive at one instant THEN exactly the 10 tokens pass and the rest get 429 with Retry-After 1', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    try {
      clock.set(WED_NOON);
      const answers = await Promise.all(Array.from({ length: 20 }, () => infer(KEYS.burst, agent)));

      // The clock stands still, so nothing refills: the full bucket's 10 tokens are all there is.
      const refused = answers.filter((a) => a.status === 429);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(BURST_PLAN.burstLimit);
      expect(refused).toHaveLength(20 - BURST_PLAN.burstLimit);
      for (const r of refused) {
        // An empty bucket is 1/5 s from its next token; Retry-After rounds up to whole seconds.
        expect(r.headers['retry-after']).toBe('1');
        expect(r.headers['content-type']).toBe('application/json');
        expect(errorMessage(r)).toBe('rate limit of 5 req/s (burst 10) exceeded (usage plan "burst")');
      }

      // A 429 for one key touches no other: another key on another plan, and another key on the same plan.
      expect((await infer(KEYS.other, agent)).status).toBe(200);
      const twin = await Promise.all(Array.from({ length: 10 }, () => infer(KEYS.burstTwin, agent)));
      expect(twin.map((a) => a.status)).toEqual(Array(10).fill(200));

      // 1 ms short of a token is still refused; the Retry-After the server gave is enough to be served again.
      clock.advance(1000 / BURST_PLAN.rateLimit - 1);
      expect((await infer(KEYS.burst, agent)).status).toBe(429);
      clock.set(WED_NOON + 1000 * Number(refused[0].headers['retry-after']));
      expect((await infer(KEYS.burst, agent)).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});

describe('steady rate', () => {
  test('GIVEN a plan {rateLimit 10, burstLimit 5} WHEN a request comes every 25 ms for 3 s THEN burst + rate x 3 s pass: 35 of 121', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const start = WED_NOON + 3_600_000;
      const answers: Array<{ status: number; retryAfter?: string }> = [];
      for (let ms = 0; ms <= 3000; ms += 25) {
        clock.set(start + ms);
        const r = await infer(KEYS.steady, agent);
        answers.push({ status: r.status, retryAfter: r.headers['retry-after'] });
      }

      expect(answers).toHaveLength(121);
      // The full bucket of 5, and the 1.5 tokens that refill while it drains over 6 requests.
      expect(answers.slice(0, 7).map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 429]);
      // 5 tokens to start with and 10 more each second; a request every 25 ms takes each as it appears.
      expect(answers.filter((a) => a.status === 200)).toHaveLength(STEADY_PLAN.burstLimit + STEADY_PLAN.rateLimit * 3);
      // Once the bucket is drained, every fourth request finds the token the last 100 ms made.
      expect(answers.slice(-8).map((a) => a.status)).toEqual([429, 429, 429, 200, 429, 429, 429, 200]);
      expect(answers.every((a) => a.status === 200 || (a.status === 429 && a.retryAfter === '1'))).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe('quota', () => {
  test('GIVEN a quota of 5 per DAY WHEN 7 requests are made at 23:59:59.9 UTC THEN 5 pass, then 429 until midnight; at 00:00 UTC it passes again', async () => {
    const lastTenth = Date.UTC(2024, 0, 10, 23, 59, 59, 900);
    const midnight = Date.UTC(2024, 0, 11);
    clock.set(lastTenth);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await infer(KEYS.quota)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);

    const sixth = await infer(KEYS.quota);
    expect(sixth.status).toBe(429);
    // 100 ms to wait, rounded up to a whole second.
    expect(sixth.headers['retry-after']).toBe('1');
    expect(errorMessage(sixth)).toBe(
      `quota of 5 requests per DAY exhausted; resets at ${new Date(midnight).toISOString()} (usage plan "daily")`,
    );

    // A refused request does not count: the seventh is refused the same way, and other keys are untouched.
    const seventh = await infer(KEYS.quota);
    expect(seventh.status).toBe(429);
    expect(errorMessage(seventh)).toBe(errorMessage(sixth));
    expect((await infer(KEYS.other)).status).toBe(200);

    clock.set(midnight - 1);
    expect((await infer(KEYS.quota)).status).toBe(429);
    clock.set(midnight);
    const nextDay: number[] = [];
    for (let i = 0; i < 6; i++) nextDay.push((await infer(KEYS.quota)).status);
    expect(nextDay).toEqual([200, 200, 200, 200, 200, 429]);
    // At noon the wait is the 12 hours to the next midnight.
    clock.set(midnight + 12 * 3_600_000);
    expect((await infer(KEYS.quota)).headers['retry-after']).toBe(String(12 * 3600));
  });
});
