/** Checks on numeric props: they throw early, naming the prop and the bad value. Tokens pass unchecked. */
import { Duration, Token } from 'aws-cdk-lib';

export function checkInteger(what: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer from ${min} to ${max}; got ${value}`);
  }
}

export function checkPositive(what: string, value: number | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what} must be a positive number; got ${value}`);
}

export function checkDuration(what: string, value: Duration | undefined, maxSeconds: number): void {
  if (value === undefined || value.isUnresolved()) return;
  const seconds = value.toSeconds();
  if (seconds < 1 || seconds > maxSeconds) throw new RangeError(`${what} must be from 1 to ${maxSeconds} seconds; got ${seconds}`);
}

/** A fleet's bounds: each from 1 to `limit`, and the most no fewer than the fewest. */
export function checkCapacity(min: number, max: number, limit: number): void {
  checkInteger('minCapacity', min, 1, limit);
  checkInteger('maxCapacity', max, 1, limit);
  if (!Token.isUnresolved(min) && !Token.isUnresolved(max) && max < min)
    throw new RangeError(`maxCapacity (${max}) cannot be below minCapacity (${min})`);
}
