/**
 * Named errors, each carrying the HTTP status the design's error table gives it.
 * Fronts map them to responses in one place (`errorResponse` in lib/router).
 */
export abstract class ModelshipError extends Error {
  abstract readonly status: number;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or does not match the manifest. */
export class BadRequestError extends ModelshipError {
  readonly status = 400;
}

/** 401: credentials are missing or invalid. */
export class UnauthorizedError extends ModelshipError {
  readonly status = 401;
}

/** 403: the caller is known but not allowed. */
export class ForbiddenError extends ModelshipError {
  readonly status = 403;
}

/** 404: the model, version or route is unknown. */
export class NotFoundError extends ModelshipError {
  readonly status = 404;
}

/** 405: the route exists but not for this method. */
export class MethodNotAllowedError extends ModelshipError {
  readonly status = 405;
  /** The methods the route takes, sent back in the Allow header as RFC 9110 requires. */
  constructor(message: string, readonly allow: readonly string[]) {
    super(message);
  }
}

/** 413: the body is larger than the configured limit. */
export class PayloadTooLargeError extends ModelshipError {
  readonly status = 413;
}

/** 415: the body's content type is not one the protocol speaks. */
export class UnsupportedMediaTypeError extends ModelshipError {
  readonly status = 415;
}

/** 429: a rate limit or quota is exhausted; `retryAfterSeconds` goes out as Retry-After. */
export class TooManyRequestsError extends ModelshipError {
  readonly status = 429;
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}

/** 503: the model is not ready to serve. */
export class NotReadyError extends ModelshipError {
  readonly status = 503;
}

/** A package on disk is malformed or has been tampered with. Not an HTTP error: it stops a load. */
export class PackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackageError';
  }
}
