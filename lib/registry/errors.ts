/**
 * Errors of the model registry. Each message names the model, version or S3 object at fault and says
 * what to do; none of them carries credentials.
 */
import { ModelshipError } from '../errors';
import { PackageError } from '../package/errors';

/** The registry cannot do what was asked: an unknown model or version, a refused upload, denied access. */
export class RegistryError extends ModelshipError {
  readonly kind = 'registry' as const;
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
  }
}

/**
 * Bytes that do not hash to what they should: a corrupted or tampered tarball, or a package whose model
 * does not match its manifest. Nothing is installed when this is thrown.
 */
export class IntegrityError extends PackageError {}
