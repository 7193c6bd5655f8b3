/**
 * Usage-plan limits over HTTP, in real time, against a running local server: the token bucket's burst,
 * its steady refill rate, the per-DAY quota, and independence between keys. Tolerances come from the
 * bucket's arithmetic and the measured elapsed time, not from guesses.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { Manifest } from '../../lib/package/manifest';
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
const DAY_MS = 86_400_000;

let running: RunningServer;
let body: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function infer(key: string, agent?: Agent): Promise<HttpAnswer> {
  return send(`${running.url}/v2/models/tiny-mlp/infer`, { headers: { 'x-api-key': key, 'content-type': 'application/json' }, body, agent });
}

beforeAll(async () => {
  const pkg = await makeTinyMlpPackage(tempDir('modelship-limits-'));
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'modelship.json'), 'utf8')) as Manifest;
  body = readFileSync(join(pkg.dir, manifest.samples[0].request), 'utf8');
  running = await startServer({
    dirs: [pkg.dir],
    port: 0,
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
    }),
  });
});

afterAll(() => running.close());

describe('burst', () => {
  test('GIVEN a plan {rateLimit 5, burstLimit 10} WHEN 20 requests arrive at once THEN the bucket passes its 10 tokens (plus at most what refilled meanwhile) and refuses the rest with 429 and Retry-After 1', async () => {
    // Open 20 keep-alive sockets first, with a key on another plan, so the burst itself needs no handshakes.
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    try {
      const warm = await Promise.all(Array.from({ length: 20 }, () => infer(KEYS.other, agent)));
      expect(warm.map((a) => a.status)).toEqual(Array(20).fill(200));

      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => infer(KEYS.burst, agent)));
      const elapsedS = (performance.now() - started) / 1000;

      // The bucket starts full (10 tokens), so the first 10 requests to reach the limiter pass whatever the
      // timing. Every token minted later took 1/5 s of refill inside the burst's own window, so at most
      // floor(5 * elapsed) more can pass: exactly 10 when the burst takes under 200 ms (about 20 ms here).
      const passed = answers.filter((a) => a.status === 200).length;
      const refused = answers.filter((a) => a.status === 429);
      expect(passed).toBeGreaterThanOrEqual(10);
      expect(passed).toBeLessThanOrEqual(10 + Math.floor(BURST_PLAN.rateLimit * elapsedS));
      expect(passed + refused.length).toBe(20);
      for (const r of refused) {
        // After the bucket is drained a token is at most 1/5 s away; Retry-After rounds up to whole seconds.
        expect(r.headers['retry-after']).toBe('1');
        expect(r.headers['content-type']).toBe('application/json');
        expect(errorMessage(r)).toBe('rate limit of 5 req/s (burst 10) exceeded (usage plan "burst")');
      }

      // A 429 for one key touches no other: another key on another plan, and another key on the same plan.
      expect((await infer(KEYS.other, agent)).status).toBe(200);
      const twin = await Promise.all(Array.from({ length: 10 }, () => infer(KEYS.burstTwin, agent)));
      expect(twin.map((a) => a.status)).toEqual(Array(10).fill(200));

      // Waiting the Retry-After the server gave is enough to be served again.
      await sleep(1000 * Number(refused[0].headers['retry-after']));
      expect((await infer(KEYS.burst, agent)).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});

describe('steady rate', () => {
  test('GIVEN a plan {rateLimit 10, burstLimit 5} WHEN requests come at 40/s for 3 s THEN the 200s number burst + rate x elapsed, within 2', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await infer(KEYS.other, agent); // opens the socket
      const answers: Array<{ status: number; retryAfter?: string }> = [];
      const sentAt: number[] = [];
      const started = performance.now();
      for (let i = 0; ; i++) {
        const due = started + i * 25;
        if (due - started > 3000) break;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        sentAt.push(performance.now());
        const r = await infer(KEYS.steady, agent);
        answers.push({ status: r.status, retryAfter: r.headers['retry-after'] as string | undefined });
      }
      const elapsedS = (sentAt[sentAt.length - 1] - sentAt[0]) / 1000;
      const passed = answers.filter((a) => a.status === 200).length;
      // burst + rate x elapsed holds while the client keeps the bucket from filling up. Should this process
      // stall for more than (burst - 1) / rate = 0.4 s between two requests, the bucket fills to its cap
      // and the refill past it is lost: `capped` counts those tokens (0 on an unloaded machine).
      let tokens: number = STEADY_PLAN.burstLimit;
      let capped = 0;
      for (let i = 1; i < sentAt.length; i++) {
        const refilled = tokens + (STEADY_PLAN.rateLimit * (sentAt[i] - sentAt[i - 1])) / 1000;
        capped += Math.max(0, refilled - STEADY_PLAN.burstLimit);
        tokens = Math.min(STEADY_PLAN.burstLimit, refilled);
        if (tokens >= 1) tokens -= 1;
      }
      const expected = STEADY_PLAN.burstLimit + STEADY_PLAN.rateLimit * elapsedS - capped;

      expect(answers.length).toBeGreaterThan(80); // the client really did outpace the limit (> 26/s over 3 s)
      expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]); // the full bucket
      expect(Math.abs(passed - expected)).toBeLessThanOrEqual(2);
      expect(answers.every((a) => a.status === 200 || (a.status === 429 && a.retryAfter === '1'))).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe('quota', () => {
  test('GIVEN a plan with a quota of 5 per DAY WHEN 7 requests are made THEN 5 pass, then 429 with Retry-After until 00:00 UTC', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await infer(KEYS.quota)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);

    const now = Date.now();
    const nextMidnight = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
    const sixth = await infer(KEYS.quota);
    expect(sixth.status).toBe(429);
    expect(Math.abs(Number(sixth.headers['retry-after']) - (nextMidnight - now) / 1000)).toBeLessThanOrEqual(2);
    expect(errorMessage(sixth)).toBe(
      `quota of 5 requests per DAY exhausted; resets at ${new Date(nextMidnight).toISOString()} (usage plan "daily")`,
    );

    // A refused request does not count: the seventh is refused the same way, and other keys are untouched.
    const seventh = await infer(KEYS.quota);
    expect(seventh.status).toBe(429);
    expect(Math.abs(Number(seventh.headers['retry-after']) - Number(sixth.headers['retry-after']))).toBeLessThanOrEqual(1);
    expect((await infer(KEYS.other)).status).toBe(200);
  });
});
