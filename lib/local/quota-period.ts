/**
 * Where a usage-plan quota period starts and ends, in UTC, as API Gateway counts them.
 */
import type { QuotaSettings } from './config';

const DAY_MS = 86_400_000;

/** A half-open interval [startMs, endMs) of epoch milliseconds. */
export interface QuotaPeriod {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The quota period that contains `nowMs`.
 * DAY starts at 00:00 UTC; WEEK on Monday 00:00 UTC plus `offset` days; MONTH on the 1st 00:00 UTC
 * plus `offset` days (the config caps it at 27 so every month has that day).
 */
export function quotaPeriodAt(quota: Pick<QuotaSettings, 'period' | 'offset'>, nowMs: number): QuotaPeriod {
  const offset = quota.offset ?? 0;
  const now = new Date(nowMs);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const dayStart = Date.UTC(y, m, now.getUTCDate());
  switch (quota.period) {
    case 'DAY':
      return { startMs: dayStart, endMs: dayStart + DAY_MS };
    case 'WEEK': {
      // getUTCDay() counts from Sunday; shift so Monday is 0.
      const sinceMonday = (now.getUTCDay() + 6) % 7;
      let start = dayStart - sinceMonday * DAY_MS + offset * DAY_MS;
      if (start > nowMs) start -= 7 * DAY_MS;
      return { startMs: start, endMs: start + 7 * DAY_MS };
    }
    case 'MONTH': {
      // Date.UTC normalises month -1 and 12 into the neighbouring years.
      let startMonth = m;
      if (Date.UTC(y, m, 1 + offset) > nowMs) startMonth = m - 1;
      return { startMs: Date.UTC(y, startMonth, 1 + offset), endMs: Date.UTC(y, startMonth + 1, 1 + offset) };
    }
  }
}
