/**
 * API Gateway usage-plan limits, mirrored locally: a token bucket per (plan, principal) and an optional
 * per-period quota, so a client sees the same 429s against `modelship serve` as against a deployment.
 */
import { TooManyRequestsError } from '../protocol/errors';
import { systemClock, type Clock } from '../util/clock';
import type { ServerConfig, UsagePlan } from './config';
import { quotaPeriodAt } from './quota-period';

/** Refills accumulate in floating point; without slack, 10 refills of 0.1 could leave 0.9999999 tokens. */
const EPSILON = 1e-9;
/** Below this many tracked entries an idle sweep is not worth its O(n) walk. */
const MIN_SWEEP_AT = 1024;
/** Default hard cap on tracked (plan, principal) pairs. */
export const DEFAULT_MAX_ENTRIES = 100_000;

/** Options for {@link UsagePlanLimiter}. */
export interface UsagePlanLimiterOptions {
  /**
   * Hard cap on tracked (plan, principal) pairs. Principals come from the config or from signed JWT
   * subjects, so this is a safety net; past it the least recently used pair is forgotten, which gives
   * that principal a fresh bucket and quota.
   */
  readonly maxEntries?: number;
}

interface Entry {
  readonly plan: UsagePlan;
  /** Tokens in the bucket as of `lastMs`. */
  tokens: number;
  lastMs: number;
  /** Requests counted in the quota period [periodStart, periodEnd). */
  used: number;
  periodStart: number;
  periodEnd: number;
}

/**
 * Counts requests against usage plans the way API Gateway does.
 *
 * - Throttle: a bucket of `burstLimit` tokens, starting full, refilled continuously at `rateLimit` tokens/s;
 *   each request takes one.
 * - Quota: at most `quota.limit` requests per UTC DAY, WEEK (from Monday) or MONTH (from the 1st), each
 *   start moved by `quota.offset` days.
 * - A rejected request consumes neither tokens nor quota.
 */
export class UsagePlanLimiter {
  private readonly plans: ReadonlyMap<string, UsagePlan>;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private sweepAt = MIN_SWEEP_AT;

  /**
   * @param plans the config's usage plans, by name
   * @param clock where refills and quota periods read the time; tests pass one they move by hand
   */
  constructor(
    plans: ServerConfig['plans'],
    private readonly clock: Clock = systemClock,
    options: UsagePlanLimiterOptions = {},
  ) {
    this.plans = new Map(Object.entries(plans));
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  /** How many (plan, principal) pairs are tracked now; exposed so memory bounds can be checked. */
  get trackedCount(): number {
    return this.entries.size;
  }

  /**
   * Counts one request by `principalId` against `planName`.
   * @throws TooManyRequestsError with `retryAfterSeconds` when the bucket is empty or the quota is spent
   * @throws Error when `planName` is not a configured plan (a server bug: the config is checked at load)
   */
  take(principalId: string, planName: string): void {
    const plan = this.plans.get(planName);
    if (plan === undefined) throw new Error(`unknown usage plan "${planName}"`);
    const now = this.clock.now();
    const entry = this.touch(`${planName}\u0000${principalId}`, plan, now);

    const elapsed = now - entry.lastMs;
    // A clock that steps back must not mint tokens, so only forward time refills.
    if (elapsed > 0) {
      entry.tokens = Math.min(plan.burstLimit, entry.tokens + (elapsed * plan.rateLimit) / 1000);
      entry.lastMs = now;
    }

    const quota = plan.quota;
    if (quota !== undefined) {
      if (!(now >= entry.periodStart && now < entry.periodEnd)) {
        const period = quotaPeriodAt(quota, now);
        entry.periodStart = period.startMs;
        entry.periodEnd = period.endMs;
        entry.used = 0;
      }
      // Checked before the bucket: when both are spent, the quota's longer wait is the useful answer.
      if (entry.used >= quota.limit) {
        throw new TooManyRequestsError(
          `quota of ${quota.limit} requests per ${quota.period} exhausted; resets at ` +
            `${new Date(entry.periodEnd).toISOString()} (usage plan "${planName}")`,
          Math.max(1, Math.ceil((entry.periodEnd - now) / 1000)),
        );
      }
    }

    if (entry.tokens < 1 - EPSILON) {
      const wait = (1 - entry.tokens) / plan.rateLimit;
      throw new TooManyRequestsError(
        `rate limit of ${plan.rateLimit} req/s (burst ${plan.burstLimit}) exceeded (usage plan "${planName}")`,
        Math.max(1, Math.ceil(wait - EPSILON)),
      );
    }
    entry.tokens -= 1;
    entry.used += 1;
  }

  /** Finds or creates the entry and marks it most recently used (Map order is the LRU order). */
  private touch(key: string, plan: UsagePlan, now: number): Entry {
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    // Sweep before inserting: the new entry is itself idle and would be swept away.
    if (this.entries.size >= this.sweepAt) this.sweepIdle(now);
    entry = { plan, tokens: plan.burstLimit, lastMs: now, used: 0, periodStart: NaN, periodEnd: NaN };
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done || oldest.value === key) break;
      this.entries.delete(oldest.value);
    }
    return entry;
  }

  /**
   * Drops entries indistinguishable from new ones: bucket refilled and no quota period still running.
   * The next sweep waits until the map has doubled, which keeps sweeps O(1) per request amortised.
   */
  private sweepIdle(now: number): void {
    for (const [key, e] of this.entries) {
      const full = e.tokens + ((now - e.lastMs) * e.plan.rateLimit) / 1000 >= e.plan.burstLimit - EPSILON;
      const quotaOver = e.plan.quota === undefined || !(now < e.periodEnd);
      if (full && quotaOver) this.entries.delete(key);
    }
    this.sweepAt = Math.max(MIN_SWEEP_AT, this.entries.size * 2);
  }
}
