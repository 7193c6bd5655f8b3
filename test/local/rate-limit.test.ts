import { TooManyRequestsError } from '../../lib/protocol/errors';
import type { UsagePlan } from '../../lib/local/config';
import { quotaPeriodAt } from '../../lib/local/quota-period';
import { UsagePlanLimiter } from '../../lib/local/rate-limit';
import { ManualClock, WED_NOON } from '../helpers/clock';

const fakeClock = (start: number) => new ManualClock(start);

/** Calls take() and returns the TooManyRequestsError it threw, failing the test when it passed. */
function rejection(limiter: UsagePlanLimiter, principal: string, plan: string): TooManyRequestsError {
  try {
    limiter.take(principal, plan);
  } catch (err) {
    expect(err).toBeInstanceOf(TooManyRequestsError);
    return err as TooManyRequestsError;
  }
  throw new Error(`expected ${principal} to be rejected on ${plan}`);
}

/** Takes until the first rejection and returns how many passed. */
function drain(limiter: UsagePlanLimiter, principal: string, plan: string, max = 100_000): number {
  for (let n = 0; n < max; n++) {
    try {
      limiter.take(principal, plan);
    } catch (err) {
      if (err instanceof TooManyRequestsError) return n;
      throw err;
    }
  }
  throw new Error('never rejected');
}

const unlimitedBurst = (quota: UsagePlan['quota']): UsagePlan => ({ rateLimit: 1000, burstLimit: 1_000_000, quota });

describe('UsagePlanLimiter token bucket', () => {
  test('GIVEN rate 10 and burst 20 WHEN 21 requests arrive at t=0 THEN 20 pass and the 21st gets 429 with Retry-After 1', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ basic: { rateLimit: 10, burstLimit: 20 } }, clock);

    for (let i = 0; i < 20; i++) limiter.take('apiKey:alice', 'basic');
    const err = rejection(limiter, 'apiKey:alice', 'basic');

    expect(err.status).toBe(429);
    expect(err.retryAfterSeconds).toBe(1);
    expect(err.message).toBe('rate limit of 10 req/s (burst 20) exceeded (usage plan "basic")');
  });

  test('GIVEN an empty bucket WHEN 1 s passes THEN exactly rateLimit more requests pass', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ basic: { rateLimit: 10, burstLimit: 20 } }, clock);
    expect(drain(limiter, 'p', 'basic')).toBe(20);

    clock.advance(1000);

    expect(drain(limiter, 'p', 'basic')).toBe(10);
  });

  test('GIVEN a slow rate of 0.25 req/s WHEN the bucket is empty THEN Retry-After is the time to one whole token, rounded up', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ slow: { rateLimit: 0.25, burstLimit: 2 } }, clock);
    expect(drain(limiter, 'p', 'slow')).toBe(2);
    expect(rejection(limiter, 'p', 'slow').retryAfterSeconds).toBe(4);

    clock.advance(1500); // 0.375 tokens: 2.5 s still to wait
    expect(rejection(limiter, 'p', 'slow').retryAfterSeconds).toBe(3);

    clock.advance(400); // 0.475 tokens: 2.1 s still to wait, which rounds up, not to nearest
    expect(rejection(limiter, 'p', 'slow').retryAfterSeconds).toBe(3);

    clock.advance(2099);
    expect(drain(limiter, 'p', 'slow')).toBe(0);
    clock.advance(1);
    expect(drain(limiter, 'p', 'slow')).toBe(1);
  });

  test('GIVEN a greedy client WHEN it sends as fast as it can for 10 s THEN at most rateLimit*10 + burstLimit pass, within 1', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ basic: { rateLimit: 10, burstLimit: 20 } }, clock);
    let passed = 0;
    for (let ms = 0; ms <= 10_000; ms++) {
      clock.set(WED_NOON + ms);
      passed += drain(limiter, 'p', 'basic');
    }
    expect(Math.abs(passed - (10 * 10 + 20))).toBeLessThanOrEqual(1);
  });

  test('GIVEN an idle principal WHEN a long time passes THEN the bucket refills only up to burstLimit', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ basic: { rateLimit: 10, burstLimit: 20 } }, clock);
    drain(limiter, 'p', 'basic');

    clock.advance(3_600_000);

    expect(drain(limiter, 'p', 'basic')).toBe(20);
  });

  test('GIVEN a clock that steps back WHEN requests continue THEN no tokens are created', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ basic: { rateLimit: 10, burstLimit: 20 } }, clock);
    drain(limiter, 'p', 'basic');

    clock.advance(-5000);
    expect(drain(limiter, 'p', 'basic')).toBe(0);
    clock.advance(5000 + 100); // back to where it was, plus 100 ms: one token
    expect(drain(limiter, 'p', 'basic')).toBe(1);
  });

  test('GIVEN two principals on one plan WHEN one empties its bucket THEN the other still has its full burst', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ basic: { rateLimit: 10, burstLimit: 20 } }, clock);

    expect(drain(limiter, 'apiKey:alice', 'basic')).toBe(20);
    expect(drain(limiter, 'apiKey:bob', 'basic')).toBe(20);
    expect(drain(limiter, 'apiKey:alice', 'basic')).toBe(0);
  });

  test('GIVEN one principal on two plans WHEN it empties one THEN the other plan has its own bucket', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ a: { rateLimit: 1, burstLimit: 3 }, b: { rateLimit: 1, burstLimit: 5 } }, clock);
    expect(drain(limiter, 'p', 'a')).toBe(3);
    expect(drain(limiter, 'p', 'b')).toBe(5);
  });

  test('GIVEN an unknown plan name WHEN a request is counted THEN it throws a plain Error, not a 429', () => {
    const limiter = new UsagePlanLimiter({ basic: { rateLimit: 1, burstLimit: 1 } });
    expect(() => limiter.take('p', 'gold')).toThrow('unknown usage plan "gold"');
    expect(() => limiter.take('p', 'gold')).not.toThrow(TooManyRequestsError);
  });
});

describe('UsagePlanLimiter quota', () => {
  test('GIVEN a quota of 3 per DAY WHEN 4 requests arrive at noon THEN 3 pass and the 4th waits until 00:00 UTC; the next day passes', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ q: unlimitedBurst({ limit: 3, period: 'DAY', offset: 0 }) }, clock);

    for (let i = 0; i < 3; i++) limiter.take('p', 'q');
    const err = rejection(limiter, 'p', 'q');
    expect(err.retryAfterSeconds).toBe(12 * 3600);
    expect(err.message).toBe('quota of 3 requests per DAY exhausted; resets at 2024-01-11T00:00:00.000Z (usage plan "q")');

    clock.set(Date.UTC(2024, 0, 10, 23, 59, 59, 999));
    expect(rejection(limiter, 'p', 'q').retryAfterSeconds).toBe(1);

    clock.set(Date.UTC(2024, 0, 11));
    expect(drain(limiter, 'p', 'q')).toBe(3);
  });

  test('GIVEN a quota per WEEK WHEN it is spent on a Wednesday THEN it resets on Monday 00:00 UTC, not on Sunday', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ q: unlimitedBurst({ limit: 2, period: 'WEEK', offset: 0 }) }, clock);
    expect(drain(limiter, 'p', 'q')).toBe(2);
    const err = rejection(limiter, 'p', 'q');
    expect(err.retryAfterSeconds).toBe(4 * 86_400 + 12 * 3600);
    expect(err.message).toContain('quota of 2 requests per WEEK exhausted; resets at 2024-01-15T00:00:00.000Z');

    clock.set(Date.UTC(2024, 0, 14, 23, 59, 59)); // Sunday night
    expect(drain(limiter, 'p', 'q')).toBe(0);
    clock.set(Date.UTC(2024, 0, 15)); // Monday
    expect(drain(limiter, 'p', 'q')).toBe(2);
  });

  test('GIVEN a WEEK quota with offset 3 WHEN spent on a Wednesday THEN it resets on Thursday 00:00 UTC', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ q: unlimitedBurst({ limit: 1, period: 'WEEK', offset: 3 }) }, clock);
    limiter.take('p', 'q');
    const err = rejection(limiter, 'p', 'q');
    expect(err.retryAfterSeconds).toBe(12 * 3600);
    expect(err.message).toContain('resets at 2024-01-11T00:00:00.000Z');
  });

  test('GIVEN a quota per MONTH WHEN spent on 31 January THEN it resets on 1 February; in leap February on 1 March', () => {
    const clock = fakeClock(Date.UTC(2024, 0, 31, 12));
    const limiter = new UsagePlanLimiter({ q: unlimitedBurst({ limit: 1, period: 'MONTH', offset: 0 }) }, clock);
    limiter.take('p', 'q');
    const jan = rejection(limiter, 'p', 'q');
    expect(jan.retryAfterSeconds).toBe(12 * 3600);
    expect(jan.message).toContain('quota of 1 requests per MONTH exhausted; resets at 2024-02-01T00:00:00.000Z');

    clock.set(Date.UTC(2024, 1, 1));
    limiter.take('p', 'q');
    const feb = rejection(limiter, 'p', 'q');
    expect(feb.retryAfterSeconds).toBe(29 * 86_400);
    expect(feb.message).toContain('resets at 2024-03-01T00:00:00.000Z');
  });

  test("GIVEN a MONTH quota WHEN spent on New Year's Eve THEN it resets at the new year", () => {
    const clock = fakeClock(Date.UTC(2023, 11, 31, 23));
    const limiter = new UsagePlanLimiter({ q: unlimitedBurst({ limit: 1, period: 'MONTH', offset: 0 }) }, clock);
    limiter.take('p', 'q');
    expect(rejection(limiter, 'p', 'q').retryAfterSeconds).toBe(3600);
    clock.set(Date.UTC(2024, 0, 1));
    expect(drain(limiter, 'p', 'q')).toBe(1);
  });

  test('GIVEN a MONTH quota with offset 14 WHEN spent on 10 January THEN it resets on 15 January', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ q: unlimitedBurst({ limit: 1, period: 'MONTH', offset: 14 }) }, clock);
    limiter.take('p', 'q');
    expect(rejection(limiter, 'p', 'q').message).toContain('resets at 2024-01-15T00:00:00.000Z');
    clock.set(Date.UTC(2024, 0, 15));
    expect(drain(limiter, 'p', 'q')).toBe(1);
  });

  test('GIVEN burst 2 and a quota of 3 WHEN the bucket rejects 5 requests THEN the quota still has room for the 3rd', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ q: { rateLimit: 1, burstLimit: 2, quota: { limit: 3, period: 'DAY', offset: 0 } } }, clock);
    expect(drain(limiter, 'p', 'q')).toBe(2);
    for (let i = 0; i < 5; i++) expect(rejection(limiter, 'p', 'q').message).toContain('rate limit of 1 req/s (burst 2)');

    clock.advance(1000);
    limiter.take('p', 'q');

    clock.advance(1000);
    const err = rejection(limiter, 'p', 'q');
    expect(err.message).toContain('quota of 3 requests per DAY exhausted');
    expect(err.retryAfterSeconds).toBe(12 * 3600 - 2);
  });

  test('GIVEN separate principals on a quota plan WHEN one spends its quota THEN the other keeps its own', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ q: unlimitedBurst({ limit: 2, period: 'DAY', offset: 0 }) }, clock);
    expect(drain(limiter, 'jwt:a', 'q')).toBe(2);
    expect(drain(limiter, 'jwt:b', 'q')).toBe(2);
  });
});

describe('quotaPeriodAt', () => {
  test('GIVEN instants on period boundaries WHEN asked THEN start is inclusive and end exclusive', () => {
    const mondayMidnight = Date.UTC(2024, 0, 15);
    expect(quotaPeriodAt({ period: 'WEEK', offset: 0 }, mondayMidnight)).toEqual({
      startMs: mondayMidnight,
      endMs: Date.UTC(2024, 0, 22),
    });
    expect(quotaPeriodAt({ period: 'WEEK', offset: 0 }, mondayMidnight - 1)).toEqual({
      startMs: Date.UTC(2024, 0, 8),
      endMs: mondayMidnight,
    });
    expect(quotaPeriodAt({ period: 'DAY', offset: 0 }, Date.UTC(2024, 1, 29, 23, 59))).toEqual({
      startMs: Date.UTC(2024, 1, 29),
      endMs: Date.UTC(2024, 2, 1),
    });
    // Offset 6 puts the week's start on Sunday.
    expect(quotaPeriodAt({ period: 'WEEK', offset: 6 }, WED_NOON)).toEqual({
      startMs: Date.UTC(2024, 0, 7),
      endMs: Date.UTC(2024, 0, 14),
    });
    expect(quotaPeriodAt({ period: 'MONTH', offset: 27 }, Date.UTC(2024, 2, 1))).toEqual({
      startMs: Date.UTC(2024, 1, 28),
      endMs: Date.UTC(2024, 2, 28),
    });
  });
});

describe('UsagePlanLimiter memory bounds', () => {
  test('GIVEN 1023 idle principals and one with a running quota WHEN a new principal arrives later THEN only live entries are kept', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter(
      { fast: { rateLimit: 1000, burstLimit: 1 }, q: unlimitedBurst({ limit: 1, period: 'DAY', offset: 0 }) },
      clock,
    );
    for (let i = 0; i < 1023; i++) limiter.take(`p${i}`, 'fast');
    limiter.take('quota-user', 'q');
    expect(limiter.trackedCount).toBe(1024);

    clock.advance(1000);
    limiter.take('newcomer', 'fast');

    expect(limiter.trackedCount).toBe(2);
    // The swept-in survivor still remembers its spent quota.
    expect(rejection(limiter, 'quota-user', 'q').message).toContain('quota of 1 requests per DAY exhausted');
  });

  test('GIVEN 1024 principals with empty buckets WHEN a new one arrives at once THEN none is dropped, since none is idle', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ slow: { rateLimit: 1, burstLimit: 1 } }, clock);
    for (let i = 0; i < 1024; i++) limiter.take(`p${i}`, 'slow');

    limiter.take('newcomer', 'slow');

    expect(limiter.trackedCount).toBe(1025);
    expect(drain(limiter, 'p0', 'slow')).toBe(0);
  });

  test('GIVEN maxEntries 3 WHEN a 4th principal arrives THEN the least recently used one is forgotten', () => {
    const clock = fakeClock(WED_NOON);
    const limiter = new UsagePlanLimiter({ slow: { rateLimit: 1, burstLimit: 2 } }, clock, { maxEntries: 3 });
    for (const p of ['a', 'b', 'c']) limiter.take(p, 'slow');
    limiter.take('a', 'slow'); // a is now the most recent; b the least

    limiter.take('d', 'slow');

    expect(limiter.trackedCount).toBe(3);
    expect(drain(limiter, 'a', 'slow')).toBe(0); // remembered: both tokens spent
    expect(drain(limiter, 'b', 'slow')).toBe(2); // forgotten: a fresh, full bucket
  });
});
