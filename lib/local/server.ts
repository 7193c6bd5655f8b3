/**
 * The local front: node:http in API Gateway's place. It authenticates, applies usage-plan limits and the
 * body limit, then hands the request to the same ModelRouter the Lambda handler uses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ServerStartError } from '../errors';
import { BadRequestError, PayloadTooLargeError } from '../protocol/errors';
import { lambdaBodyRefusal, lambdaResultRefusal } from '../protocol/payload-limits';
import { errorResponse, type HttpRequest, type HttpResponse } from '../router/http';
import type { ModelRouter } from '../router/router';
import type { Authenticator } from './auth';
import type { UsagePlanLimiter } from './rate-limit';

/** The limiter's plan for the stage-wide throttle; the limiter must know it (startServer adds it). */
export const STAGE_THROTTLE_PLAN = 'stage throttle';

export interface LocalServerOptions {
  readonly router: ModelRouter;
  readonly authenticator: Authenticator;
  /** Usage plans by name, plus the stage throttle under STAGE_THROTTLE_PLAN. */
  readonly limiter: UsagePlanLimiter;
  /** Bodies larger than this get 413. */
  readonly maxBodyBytes: number;
  /**
   * Whether a path goes to a Lambda function when deployed (a cpu package's model routes). Such a request
   * and its answer are held to Lambda's payload limits too (lib/protocol/payload-limits.ts), a 413 over
   * either, so that what works here works deployed. @default - no path is
   */
  readonly lambdaRoute?: (path: string) => boolean;
  /** How long an idle keep-alive connection stays open. @default 65000 ms, above common load balancers' 60 s */
  readonly keepAliveTimeoutMs?: number;
  /** Called once per answered request, for access logs. @default - nothing is logged */
  readonly onRequest?: (line: AccessLogLine) => void;
  /**
   * Answers the requests that need no credentials (the browser page's shell), or undefined for every
   * other. What it answers must say nothing about the models. @default - every route needs credentials
   */
  readonly publicRoute?: LocalRoute;
  /** Answers authenticated requests the router does not know (GET /openapi.json), or undefined. @default - none */
  readonly authenticatedRoute?: LocalRoute;
}

/** A route of the local server beyond the router's: an answer, or undefined when the request is not its. */
export type LocalRoute = (method: string, path: string) => HttpResponse | undefined;

export interface AccessLogLine {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly principal?: string;
  readonly durationMs: number;
  readonly bytesIn: number;
}

/** Reads the body, refusing it as soon as it passes the limit rather than after buffering it all. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new PayloadTooLargeError(`the body is ${declared} bytes; the limit is ${limit}`));
  }
  const cutOff = () => new BadRequestError('the connection closed before the request body was complete');
  // Authentication is awaited before this runs; a request aborted meanwhile (the client half-closed or
  // hung up) will never emit end, error or close again, and waiting on it would hold close() forever.
  if (req.destroyed) return Promise.reject(cutOff());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new PayloadTooLargeError(`the body is over the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    // The client hung up or broke the framing mid-body: its fault, so a 4xx in the log, never a 500.
    req.on('error', () => reject(cutOff()));
    // 'close' follows every request; only one that ends before its body did is the client's fault.
    req.on('close', () => {
      if (!req.complete) reject(cutOff());
    });
  });
}

/**
 * A failed bind as one line that names the address and what to change; other errors pass through.
 * The CLI prints a ServerStartError without a stack, and its --port and --host are how to change them.
 */
function startError(err: NodeJS.ErrnoException, port: number, host: string): Error {
  const code = err.code;
  const where = `port ${port} on ${host}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ServerStartError(`${where} is already in use; stop the other server or choose another port with --port`, { cause: err });
    case 'EACCES':
      return new ServerStartError(
        `${where} may not be bound by this user (ports below 1024 need privileges); choose another port with --port`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new ServerStartError(`${host} is not an address of this machine; choose another with --host`, { cause: err });
    default:
      return err;
  }
}

/** Whether a request says a body follows its headers. */
function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function send(res: ServerResponse, response: HttpResponse, close: boolean): void {
  const body = response.body;
  const length = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  const headers: Record<string, string | number> = { ...response.headers, 'content-length': length };
  if (close) headers.connection = 'close';
  res.writeHead(response.status, headers);
  // A string goes out with the head in one write; converting it to a Buffer first costs a copy and a writev.
  res.end(body);
}

export class LocalServer {
  private readonly server: Server;
  private inFlight = 0;
  private closing = false;
  private drained?: () => void;
  /**
   * Every open connection, with how many of its requests are being answered. node's closeIdleConnections
   * skips a connection that has sent nothing yet, or half its headers (a browser's preconnect does the
   * first), and such a connection would hold close() until node's own header timeout.
   */
  private readonly connections = new Map<Socket, number>();

  constructor(private readonly options: LocalServerOptions) {
    this.server = createServer({ keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000 }, (req, res) => {
      this.answering(req.socket, res);
      void this.serve(req, res);
    });
    this.server.on('connection', (socket: Socket) => {
      this.connections.set(socket, 0);
      socket.once('close', () => this.connections.delete(socket));
    });
    // A client that sends garbage instead of HTTP gets a 400 from node and must not take the server down.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      // Headers past node's 16 KiB limit are a 431, as RFC 6585 has it; anything else unparseable is a 400.
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
      const body = JSON.stringify({ error: tooLarge ? 'the request headers are too large' : 'malformed HTTP request' });
      socket.end(
        `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
  }

  /** Starts listening; resolves with the base URL. Port 0 picks a free port. */
  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) => reject(startError(err, port, host));
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        const address = this.server.address() as AddressInfo;
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${shown}:${address.port}`);
      });
    });
  }

  /**
   * Graceful shutdown: stops accepting connections, closes idle keep-alive ones, lets in-flight requests
   * finish (their responses carry `connection: close`), and resolves when the last one has been answered,
   * or after `graceMs`, when the connections still open are cut.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cutQuietConnections();
    if (this.inFlight > 0) {
      // A client trickling a body must not hold the shutdown for node's 300 s request timeout.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([new Promise<void>((resolve) => (this.drained = resolve)), deadline]);
      clearTimeout(timer);
      this.server.closeAllConnections();
    }
    this.cutQuietConnections();
    await closed;
  }

  /** Counts a request as being answered on its connection until its response is flushed or abandoned. */
  private answering(socket: Socket, res: ServerResponse): void {
    this.connections.set(socket, (this.connections.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (this.connections.get(socket) ?? 1) - 1;
      if (this.connections.has(socket)) this.connections.set(socket, left);
    });
  }

  /**
   * Cuts every connection with no request being answered: idle keep-alive ones, and those whose request
   * has not (wholly) arrived, which a server going away would never answer anyway.
   */
  private cutQuietConnections(): void {
    for (const [socket, answering] of this.connections) if (answering === 0) socket.destroy();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    this.inFlight++;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // node lower-cases names and joins repeated request headers with ', ' (only set-cookie stays an array).
    const headers = req.headers as Record<string, string | undefined>;
    let principal: string | undefined;
    let bytesIn = 0;
    let response: HttpResponse;
    let close = this.closing;
    try {
      const shell = this.options.publicRoute?.(method, path);
      if (shell !== undefined) {
        // No credentials, but the stage throttle still counts it, as API Gateway would.
        this.options.limiter.take('stage', STAGE_THROTTLE_PLAN);
        response = shell;
        // The shell reads no body: one still on the wire would be taken for the next request.
        if (declaresBody(req)) close = true;
      } else {
        const auth = this.options.authenticator;
        // A credential that signs the body (SigV4) is checked after the body is read, still within the limit;
        // every other request is authenticated and rate limited before its body is read.
        let body = auth.needsBody?.(headers) ? await readBody(req, this.options.maxBodyBytes) : undefined;
        const who = await auth.authenticate(headers, { method, path, query: q === -1 ? '' : url.slice(q + 1), body });
        principal = who.id;
        this.options.limiter.take('stage', STAGE_THROTTLE_PLAN);
        if (who.plan !== undefined) this.options.limiter.take(who.id, who.plan);
        body ??= await readBody(req, this.options.maxBodyBytes);
        bytesIn = body.byteLength;
        const lambda = this.options.lambdaRoute?.(path) === true;
        const tooLarge = lambda ? lambdaBodyRefusal(body, headers['content-type']) : undefined;
        if (tooLarge !== undefined) throw tooLarge;
        const request: HttpRequest = { method, path, headers, body };
        response = this.options.authenticatedRoute?.(method, path) ?? (await this.options.router.handle(request));
        const resultTooLarge = lambda ? lambdaResultRefusal(response) : undefined;
        if (resultTooLarge !== undefined) response = errorResponse(resultTooLarge);
      }
    } catch (err) {
      response = errorResponse(err);
      // An unread body is still on the wire: closing is the only way to stay in step with the client.
      if (!req.complete) close = true;
    }
    if (res.writable) send(res, response, close || this.closing);
    this.options.onRequest?.({ method, path, status: response.status, principal, durationMs: performance.now() - started, bytesIn });
    this.inFlight--;
    if (this.inFlight === 0) this.drained?.();
  }
}
