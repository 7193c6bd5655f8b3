/**
 * A local HTTP server standing in for an ECS test listener: real sockets on 127.0.0.1, answering Triton's
 * unversioned routes with modelship's own router over a real package, so "right" and "wrong" answers
 * are what an engine actually computes. Every request is recorded; `answer` can take a request over.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InferenceEngine } from '../../lib/engine/engine';
import type { HttpResponse } from '../../lib/router/http';
import { ModelRouter } from '../../lib/router/router';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body: string;
}

/** Answers a request itself, or returns undefined to let the router answer it. */
export type Override = (request: SeenRequest) => HttpResponse | 'hang' | undefined;

export interface TestListener {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** Serves the package in `dir` the way Triton would be reached through the test listener. */
export async function startTestListener(dir: string, override?: Override): Promise<TestListener> {
  const router = new ModelRouter([await InferenceEngine.load(dir)]);
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const request: SeenRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        contentType: req.headers['content-type'],
        body: body.toString('utf8'),
      };
      seen.push(request);
      const own = override?.(request);
      if (own === 'hang') return;
      const answer =
        own ??
        (await router.handle({
          method: request.method,
          path: request.path,
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
          body: new Uint8Array(body),
        }));
      res.writeHead(answer.status, answer.headers);
      res.end(typeof answer.body === 'string' ? answer.body : Buffer.from(answer.body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
