/**
 * Helpers shared by the benchmarks: statistics, machine facts, progress output and child processes.
 * Nothing here decides pass or fail: the bench reports figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SingleBar, Presets } from 'cli-progress';

/** Median of a list of numbers (the list is not modified). */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Linear-interpolated quantile, q in [0, 1]. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length ? sum / values.length : NaN;
}

/** Rounds for display and for results.json, so the file does not carry noise digits. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Fisher-Yates shuffle with a seeded generator, so the order of variants differs per round but not per run. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly onnxruntime: string;
  readonly date: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  const ortVersion = (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    onnxruntime: ortVersion,
    date: new Date().toISOString(),
  };
}

/** A progress display: a cli-progress bar on a terminal, a few plain lines otherwise (CI logs, pipes). */
export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

export function progress(label: string, total: number): Progress {
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        format: `  ${label.padEnd(34)} [{bar}] {percentage}% | {value}/{total}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() };
  }
  let done = 0;
  let shownQuarter = -1;
  const started = Date.now();
  return {
    tick(n = 1) {
      done += n;
      const quarter = Math.floor((done / total) * 4);
      if (quarter > shownQuarter && quarter < 4) {
        shownQuarter = quarter;
        process.stderr.write(`  ${label}: ${done}/${total}\n`);
      }
    },
    stop() {
      process.stderr.write(`  ${label}: done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    },
  };
}

/** Writes a section heading to stderr, where progress goes; the final table goes to stdout. */
export function section(title: string): void {
  process.stderr.write(`\n${title}\n`);
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Resolves with the first stdout line of `child` that `match` accepts (its return value), rejecting when the
 * child exits first or `timeoutMs` passes. Output is collected so a failure can show it.
 */
export function waitForLine<T>(child: ChildProcess, match: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let seen = '';
    const timer = setTimeout(() => finish(new Error(`${what}: no ready line within ${timeoutMs} ms; output so far:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      seen += text;
      buffered += text;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const value = match(line);
        if (value !== undefined) {
          finish(undefined, value);
          return;
        }
      }
    };
    const onErr = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`${what} exited (${code ?? signal}) before it was ready; output:\n${seen}`));
    function finish(err?: Error, value?: T) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as T);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
  });
}

/** Starts `node script args...` with piped output. */
export function spawnNode(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  nodeArgs: readonly string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
}

/** Sends SIGTERM and waits for the exit (SIGKILL after a grace period). */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * CPU time (user + system, all threads) a process has used so far, in ms, from /proc/<pid>/stat; undefined
 * where /proc is not available. Under load from other processes this is a steadier cost figure than
 * throughput, which also measures how much CPU the process managed to get.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name, in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux architecture node supports. */
const CLOCK_TICKS = 100;

/** Waits for a child to exit on its own. */
export function waitExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection, outside any timed region: between blocks of variants that alternate, so that
 * one variant's garbage (the naive codec's parsed arrays) is not collected, and billed, in another's block.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
