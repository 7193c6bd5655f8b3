/**
 * A small node:http client for tests of the local server: real sockets, optional keep-alive agent,
 * bodies sent whole (with Content-Length) or in chunks (chunked transfer encoding), and answers
 * collected with everything a test may want to assert on (status, headers, body, JSON, socket reuse).
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
  /** Whether the request went out on a keep-alive socket that an earlier request had used. */
  readonly reusedSocket: boolean;
  /** The client side's local port: the same port on two answers means the same TCP connection. */
  readonly localPort?: number;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Sent with a Content-Length header unless `chunked`. */
  readonly body?: string | Buffer;
  /** Sends the body as these chunks with chunked transfer encoding (no Content-Length). */
  readonly chunks?: readonly Buffer[];
  readonly agent?: Agent | false;
  /** Fails the request when no answer comes within this many ms. @default 20000 */
  readonly timeoutMs?: number;
}

function parseJsonOrUndefined(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Sends one request and resolves with the answer; rejects on a socket error or when no answer comes. */
export function send(url: string, opts: SendOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
    if (body !== undefined && opts.chunks === undefined) headers['content-length'] = body.byteLength;
    const req = httpRequest(url, { method: opts.method ?? (body || opts.chunks ? 'POST' : 'GET'), headers, agent: opts.agent });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(new Error(`no answer from ${opts.method ?? 'GET'} ${url} within ${opts.timeoutMs ?? 20000} ms`));
    }, opts.timeoutMs ?? 20000);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const all = Buffer.concat(parts);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: all,
          json: parseJsonOrUndefined(all),
          reusedSocket: req.reusedSocket,
          localPort: req.socket?.localPort,
        });
      });
    });
    req.on('error', (err) => {
      // A server that answers early (413) and closes may reset the upload after the answer has arrived.
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
    if (opts.chunks !== undefined) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** Runs `tasks` with at most `concurrency` in flight at once; results keep the tasks' order. */
export async function runPool<T>(tasks: ReadonlyArray<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

/** The `error` string of a JSON error body, or undefined when the body is not `{"error": string}`. */
export function errorMessage(answer: HttpAnswer): string | undefined {
  const j = answer.json;
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return undefined;
  const e = (j as Record<string, unknown>).error;
  return typeof e === 'string' ? e : undefined;
}
