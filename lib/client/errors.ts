/**
 * What a {@link ModelClient} call can fail with. Every error is a ModelClientError; the subclass says
 * what happened, and HTTP errors carry the status and the server's own `error` message. Messages name
 * the method and URL path, never a credential.
 */
import { ModelshipError } from '../errors';

export class ModelClientError extends ModelshipError {
  readonly kind = 'client';
}

/** The server answered with a status outside 2xx (after any retries). */
export class HttpError extends ModelClientError {
  constructor(
    message: string,
    /** The HTTP status. */
    override readonly status: number,
    /** The server's `{"error": ...}` message, when the body had one. */
    readonly serverMessage: string | undefined,
    /** Response headers, names in lower case. */
    readonly headers: Readonly<Record<string, string>>,
    /** How many requests were sent, retries included. */
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** 401 (credentials missing or invalid) or 403 (not allowed). Never retried. */
export class AuthError extends HttpError {}

/**
 * 413: the request, or the answer it would get, is over the server's payload limit: API Gateway's 10 MiB
 * body, or Lambda's 6 MiB invoke payload (README.md, "Payload limits"). Never retried: the same call
 * would be refused again. The message says what to change.
 */
export class PayloadTooLargeError extends HttpError {
  constructor(
    message: string,
    status: number,
    serverMessage: string | undefined,
    headers: Readonly<Record<string, string>>,
    attempts: number,
    /** What to change: the binary protocol for a JSON call, a smaller batch for any. */
    readonly hint: string,
  ) {
    super(message, status, serverMessage, headers, attempts);
  }
}

/** 429 after every retry was spent (or when Retry-After asked for a longer wait than the retry bound). */
export class RateLimitedError extends HttpError {
  constructor(
    message: string,
    status: number,
    serverMessage: string | undefined,
    headers: Readonly<Record<string, string>>,
    attempts: number,
    /** The server's last Retry-After, in seconds. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message, status, serverMessage, headers, attempts);
  }
}

/** No complete answer within the per-attempt timeout. Not retried: the server may still be working on it. */
export class TimeoutError extends ModelClientError {
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

/** The request never got an answer: connection refused or reset, DNS failure, TLS failure. */
export class NetworkError extends ModelClientError {}

/** The server answered 2xx with a body that is not a valid v2 response. */
export class ResponseError extends ModelClientError {}
