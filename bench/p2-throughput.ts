/**
 * P2 served throughput: requests/s of the local server (startServer: API-key auth, a usage plan with limits
 * far above the offered load, validation, the v2 router and codec) against a minimal node:http +
 * onnxruntime server doing the same inference (bench/minimal-server.ts).
 *
 * Each server runs in its own child process; autocannon drives them from this one, so the load generator
 * and the server never share an event loop. Both get the same JSON body, the same headers (the minimal
 * server ignores x-api-key), keep-alive connections, a warmup, and the same measured time, split into
 * short slices that alternate between the servers; the ratio is the median of the per-pair ratios.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { readManifest } from '../lib/package/manifest';
import { median, processCpuMs, progress, round, spawnNode, stopChild, waitForLine } from './common';
import { type BenchModel, requestBodies } from './model';

export type ServerKind = 'minimal' | 'local';

export interface ThroughputStats {
  readonly requests: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Median over slice pairs of (this server's req/s / the minimal server's req/s in the same pair); 1 for minimal. */
  readonly ratio: number;
  /** reqPerSec / the minimal server's reqPerSec over all slices. */
  readonly ratioOfTotals: number;
  /** Server process CPU time (all threads) per answered request, from /proc; undefined where /proc is missing. */
  readonly cpuUsPerRequest?: number;
  /** The minimal server's cpuUsPerRequest / this one's: the throughput ratio a CPU-bound server would reach on an idle machine. */
  readonly cpuRatio?: number;
}

export interface ThroughputFigures {
  readonly batch: number;
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly sliceSeconds: number;
  /** Slice order, L = local server, M = minimal server. */
  readonly order: string;
  /** local / minimal req/s for each pair of slices. */
  readonly pairRatios: readonly number[];
  readonly requestBytes: number;
  /** onnxruntime intra-op threads in both servers ('default': one per core). */
  readonly intraOpThreads: number | 'default';
  /** Largest |difference| between the two servers' outputs for the bench body. */
  readonly maxAbsDiff: number;
  readonly servers: Readonly<Record<ServerKind, ThroughputStats>>;
}

export interface ThroughputOptions {
  readonly batches?: readonly number[];
  readonly connections?: number;
  readonly warmupSeconds?: number;
  /** Length of one measured slice. @default 1 */
  readonly sliceSeconds?: number;
  /** Slice pairs per batch: each server is measured for pairs * sliceSeconds. @default 5 */
  readonly pairs?: number;
  /** onnxruntime intra-op threads in both servers. @default - onnxruntime's default (one per core) */
  readonly intraOpThreads?: number;
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
}

async function startChild(script: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<Started> {
  const child = spawnNode(script, args, env);
  const url = await waitForLine(
    child,
    (line) => {
      try {
        return (JSON.parse(line) as { url?: string }).url;
      } catch {
        return undefined;
      }
    },
    30_000,
    what,
  );
  return { child, url };
}

interface Slice {
  /** Server CPU ms used during the slice, when /proc is readable. */
  readonly cpuMs?: number;
  readonly ok: number;
  readonly seconds: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
}

async function load(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
  pid?: number,
): Promise<Slice> {
  const cpu0 = processCpuMs(pid);
  const r = await autocannon({ url, method: 'POST', headers, body, connections, pipelining: 1, duration: seconds });
  const cpu1 = processCpuMs(pid);
  const elapsed = (r.finish.getTime() - r.start.getTime()) / 1000;
  return {
    cpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
    ok: r['2xx'],
    seconds: elapsed,
    non2xx: r.non2xx,
    errors: r.errors,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

async function post(url: string, body: Buffer, headers: Record<string, string>): Promise<Float32Array> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${text}`);
  const parsed = JSON.parse(text) as { outputs: { data: number[] }[] };
  return Float32Array.from(parsed.outputs[0].data);
}

export async function benchThroughput(model: BenchModel, options: ThroughputOptions = {}): Promise<ThroughputFigures[]> {
  const batches = options.batches ?? [1, 64];
  const connections = options.connections ?? 4;
  const warmupSeconds = options.warmupSeconds ?? 1;
  const sliceSeconds = options.sliceSeconds ?? 1;
  const pairs = options.pairs ?? 5;
  const key = randomBytes(24).toString('base64url');
  const manifest = readManifest(model.dir);
  const here = __dirname;
  const env = {
    ...process.env,
    BENCH_API_KEY: key,
    ...(options.intraOpThreads ? { BENCH_INTRA_OP_THREADS: String(options.intraOpThreads) } : {}),
  };

  const servers: Partial<Record<ServerKind, Started>> = {};
  try {
    servers.local = await startChild(join(here, 'local-server.js'), [model.dir], env, 'local server');
    servers.minimal = await startChild(join(here, 'minimal-server.js'), [join(model.dir, manifest.model.file)], env, 'minimal server');
    const urls: Record<ServerKind, string> = {
      local: `${servers.local.url}/v2/models/${model.name}/infer`,
      minimal: `${servers.minimal.url}/v2/models/${model.name}/infer`,
    };
    const figures: ThroughputFigures[] = [];
    for (const batch of batches) {
      const bodies = requestBodies(model, batch);
      const headers = { ...bodies.jsonHeaders, 'x-api-key': key };
      // Same answer from both before any timing.
      const a = await post(urls.local, bodies.json, headers);
      const b = await post(urls.minimal, bodies.json, headers);
      let diff = a.length === b.length ? 0 : Infinity;
      for (let i = 0; i < a.length && diff !== Infinity; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));

      // Pairs of equal slices, the order swapping every pair (L M, M L, L M, ...): drift and bursts of load
      // from other processes land on both alike, and the median of the per-pair ratios shrugs off a bad pair.
      const order: ServerKind[] = [];
      for (let p = 0; p < pairs; p++) order.push(...(p % 2 === 0 ? (['local', 'minimal'] as const) : (['minimal', 'local'] as const)));
      const bar = progress(`P2 batch ${batch} (${(warmupSeconds * 2 + sliceSeconds * order.length).toFixed(0)} s)`, 2 + order.length);
      for (const kind of ['local', 'minimal'] as const) {
        await load(urls[kind], bodies.json, headers, connections, warmupSeconds);
        bar.tick();
      }
      const slices: Record<ServerKind, Slice[]> = { local: [], minimal: [] };
      for (const kind of order) {
        slices[kind].push(await load(urls[kind], bodies.json, headers, connections, sliceSeconds, servers[kind]?.child.pid));
        bar.tick();
      }
      bar.stop();
      const sum = (kind: ServerKind) => {
        const s = slices[kind];
        const ok = s.reduce((n, x) => n + x.ok, 0);
        const seconds = s.reduce((n, x) => n + x.seconds, 0);
        return {
          requests: ok,
          seconds: round(seconds, 2),
          reqPerSec: ok / seconds,
          latencyP50Ms: round(s.reduce((n, x) => n + x.p50, 0) / s.length, 2),
          latencyP99Ms: round(s.reduce((n, x) => n + x.p99, 0) / s.length, 2),
          non2xx: s.reduce((n, x) => n + x.non2xx, 0),
          errors: s.reduce((n, x) => n + x.errors, 0),
          cpuUsPerRequest:
            s.every((x) => x.cpuMs !== undefined) && ok > 0 ? round((s.reduce((n, x) => n + x.cpuMs!, 0) * 1000) / ok, 1) : undefined,
        };
      };
      const minimal = sum('minimal');
      const local = sum('local');
      const pairRatios = slices.local.map((l, i) => l.ok / l.seconds / (slices.minimal[i].ok / slices.minimal[i].seconds));
      figures.push({
        batch,
        connections,
        warmupSeconds,
        sliceSeconds,
        order: order.map((k) => k[0].toUpperCase()).join(''),
        pairRatios: pairRatios.map((r) => round(r, 3)),
        requestBytes: bodies.json.byteLength,
        intraOpThreads: options.intraOpThreads ?? 'default',
        maxAbsDiff: diff,
        servers: {
          minimal: {
            ...minimal,
            reqPerSec: round(minimal.reqPerSec, 1),
            ratio: 1,
            ratioOfTotals: 1,
            cpuRatio: minimal.cpuUsPerRequest === undefined ? undefined : 1,
          },
          local: {
            ...local,
            reqPerSec: round(local.reqPerSec, 1),
            ratio: round(median(pairRatios), 3),
            ratioOfTotals: round(local.reqPerSec / minimal.reqPerSec, 3),
            cpuRatio:
              local.cpuUsPerRequest && minimal.cpuUsPerRequest ? round(minimal.cpuUsPerRequest / local.cpuUsPerRequest, 3) : undefined,
          },
        },
      });
    }
    return figures;
  } finally {
    await Promise.all(Object.values(servers).map((s) => stopChild(s.child)));
  }
}
