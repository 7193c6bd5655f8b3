/**
 * Retry policy: exponential backoff with full jitter (a random wait between 0 and min(maxDelayMs,
 * baseDelayMs * 2^retry)), except that a Retry-After from the server is waited out exactly.
 */
import { systemClock, type Sleep } from '../util/clock';

export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retries off. @default 3 */
  readonly max?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** The longest wait before a retry. A Retry-After asking for longer ends the retries. @default 20000 */
  readonly maxDelayMs?: number;
}

export interface RetryPolicy {
  readonly max: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { max: 3, baseDelayMs: 100, maxDelayMs: 20_000 };

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!Number.isInteger(policy.max) || policy.max < 0 || policy.max > 20)
    throw new RangeError(`retries.max must be an integer from 0 to 20, got ${policy.max}`);
  if (!(policy.baseDelayMs >= 0)) throw new RangeError(`retries.baseDelayMs must be a non-negative number, got ${policy.baseDelayMs}`);
  if (!(policy.maxDelayMs >= policy.baseDelayMs))
    throw new RangeError(`retries.maxDelayMs must be at least baseDelayMs (${policy.baseDelayMs}), got ${policy.maxDelayMs}`);
  return policy;
}

/** Full-jitter backoff before retry number `retry` (0 for the first retry). */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
}

/**
 * Retry-After (RFC 9110): delay-seconds or an HTTP date. Returns milliseconds from `now`, at least 0,
 * or undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = systemClock.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits `ms` on a timer, or rejects with the signal's reason as soon as it aborts. */
export const sleep: Sleep = (ms, signal) => {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's abort reason goes back as given, as fetch does
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- as above: the reason is the caller's
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
};
