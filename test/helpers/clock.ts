/**
 * A clock that only moves when a test moves it, for code that takes a Clock (lib/util/clock.ts): rate
 * limits, quotas, JWT expiry, SigV4 dates and the client's retry waits.
 */
import type { Clock, Sleep } from '../../lib/util/clock';

/** Wednesday 2024-01-10 12:00:00 UTC: the default start, mid-week, mid-month, mid-day. */
export const WED_NOON = Date.UTC(2024, 0, 10, 12);

export class ManualClock implements Clock {
  constructor(private t: number = WED_NOON) {}

  now(): number {
    return this.t;
  }

  /** Whole seconds, for JWT claims. */
  nowSeconds(): number {
    return Math.floor(this.t / 1000);
  }

  set(ms: number): void {
    this.t = ms;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  /**
   * A sleep that returns at once, moving this clock by the time asked and recording it in `waits`: a
   * retrying client then "waits" exactly as long as it meant to, and the test reads how long that was.
   */
  sleeper(waits: number[] = []): Sleep {
    return (ms, signal) => {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      waits.push(ms);
      this.t += ms;
      return Promise.resolve();
    };
  }
}
