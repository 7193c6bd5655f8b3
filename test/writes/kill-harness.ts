/**
 * Runs the built CLI (`node dist/bin/modelship.js`, as a user does) and kills it part-way. The kill points
 * are spread over the write itself, not over the process start-up that comes before it:
 * - on the n-th change fs.watch reports in the output's parent directory: the temporary sibling appearing,
 *   the aside copy appearing, each rename, each removal;
 * - a delay after the first change, a fraction of how long the write took in one whole run on this
 *   machine (so the points fall between the changes too).
 * The child keeps running while the kill is on its way, so a point is "at or just after" the one named.
 */
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'modelship.js');

export interface KillPoint {
  /** Which change in the watched directory starts the clock (1: the first). */
  readonly onEvent: number;
  /** How long after it the signal goes. @default 0 */
  readonly thenMs?: number;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The directory whose changes are counted: the output's parent. */
  readonly watchDir: string;
  /** When to send `signal`. @default - never */
  readonly point?: KillPoint;
  /** @default 'SIGKILL' */
  readonly signal?: NodeJS.Signals;
}

export interface Ended {
  /** The signal that ended it, or null when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
  /** Milliseconds from the first change in the watched directory to the exit; 0 if there was none. */
  readonly writeMs: number;
}

/** Runs the CLI with `args` and, at `point`, sends it `signal`; resolves when it has ended. */
export function runCli(args: readonly string[], options: RunOptions): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const signal = options.signal ?? 'SIGKILL';
    const point = options.point;
    let timer: NodeJS.Timeout | undefined;
    let firstChange: bigint | undefined;
    let seen = 0;
    const watcher = watch(options.watchDir, () => {
      seen++;
      firstChange ??= process.hrtime.bigint();
      if (point === undefined || seen !== point.onEvent) return;
      if (point.thenMs) timer = setTimeout(() => child.kill(signal), point.thenMs);
      else child.kill(signal);
    });
    child.on('error', reject);
    child.on('exit', (code, ended) => {
      const writeMs = firstChange === undefined ? 0 : Number((process.hrtime.bigint() - firstChange) / 1_000_000n);
      if (timer !== undefined) clearTimeout(timer);
      watcher.close();
      resolve({ signal: ended, code, stderr, writeMs });
    });
  });
}

/** `count` kill points: half on the 1st, 2nd, ... change, half spread over `writeMs` after the first. */
export function killPoints(count: number, writeMs: number): KillPoint[] {
  const timed = Math.floor(count / 2);
  return [
    ...Array.from({ length: count - timed }, (_, i) => ({ onEvent: i + 1 })),
    ...Array.from({ length: timed }, (_, i) => ({ onEvent: 1, thenMs: Math.max(1, Math.round((writeMs * (i + 0.5)) / timed)) })),
  ];
}
