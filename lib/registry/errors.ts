/**
 * Errors of the model registry. Each message names the model, version or S3 object at fault and says
 * what to do; none of them carries credentials.
 */
import { PackageError } from '../protocol/errors';

/** The registry cannot do what was asked: an unknown model or version, a refused upload, denied access. */
export class RegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** The version is already in the registry; published versions are immutable. */
export class AlreadyPublishedError extends RegistryError {
  constructor(
    message: string,
    /** The sha256 of the tarball already stored, when the registry says. */
    readonly existingSha256?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AlreadyPublishedError';
  }
}

/**
 * Bytes that do not hash to what they should: a corrupted or tampered tarball, or a package whose model
 * does not match its manifest. Nothing is installed when this is thrown.
 */
export class IntegrityError extends PackageError {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}
