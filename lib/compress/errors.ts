/** What compression refuses: a model it cannot compress, options that do not fit it, or a failed gate. */
import { ModelshipError } from '../errors';

export class CompressionError extends ModelshipError {
  readonly kind = 'compression';
}

/** The compressed model is worse than the gates allow; nothing was written. */
export class GateError extends CompressionError {}
