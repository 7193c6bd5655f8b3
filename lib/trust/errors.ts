import { ModelshipError } from '../errors';

/**
 * A package the trust policy refuses, or a signature that cannot be made: the message names the file and
 * the check that failed (envelope, key, signature, digest, unsigned file, package identity).
 */
export class SignatureError extends ModelshipError {
  readonly kind = 'trust' as const;
}
