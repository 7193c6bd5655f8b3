/**
 * Protocol errors, each carrying the HTTP status README.md's error table ("The protocol") gives it.
 * Fronts map them to responses in one place (`errorResponse` in lib/router/http.ts).
 */
import { ModelshipError } from '../errors';

export abstract class ProtocolError extends ModelshipError {
  readonly kind = 'protocol';
  abstract override readonly status: number;
}

/** 400: the request is malformed or does not match the manifest. */
export class BadRequestError extends ProtocolError {
  readonly status = 400;
}

/** 401: credentials are missing or invalid. */
export class UnauthorizedError extends ProtocolError {
  readonly status = 401;
}

/** 403: the caller is known but not allowed. */
export class ForbiddenError extends ProtocolError {
  readonly status = 403;
}

/** 404: the model, version or route is unknown. */
export class NotFoundError extends ProtocolError {
  readonly status = 404;
}

/** 405: the route exists but not for this method. */
export class MethodNotAllowedError extends ProtocolError {
  readonly status = 405;
  /** The methods the route takes, sent back in the Allow header as RFC 9110 requires. */
  constructor(
    message: string,
    readonly allow: readonly string[],
  ) {
    super(message);
  }
}

/** 413: the body is larger than the configured limit. */
export class PayloadTooLargeError extends ProtocolError {
  readonly status = 413;
}

/** 429: a rate limit or quota is exhausted; `retryAfterSeconds` goes out as Retry-After. */
export class TooManyRequestsError extends ProtocolError {
  readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** 503: the model is not ready to serve. */
export class NotReadyError extends ProtocolError {
  readonly status = 503;
}
