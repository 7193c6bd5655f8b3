/**
 * The one clock the time-dependent code reads: usage-plan limits and quotas, JWT exp/nbf, SigV4 date skew,
 * Retry-After dates and the client's retry waits. Production uses {@link systemClock}; tests pass a clock
 * they move by hand, so that no verdict depends on the wall clock or the UTC date.
 */

/** A source of the current time. */
export interface Clock {
  /** Epoch milliseconds, as Date.now() gives them. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;
