import { ModelshipError } from '../errors';

/** A package on disk is malformed or has been tampered with. Not an HTTP error: it stops a load. */
export class PackageError extends ModelshipError {
  readonly kind = 'package';
}
