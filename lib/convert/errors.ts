import { ModelshipError } from '../errors';

/** A model file that cannot be read or converted: each message names the file, layer or tensor at fault. */
export class ConversionError extends ModelshipError {
  readonly kind = 'conversion';
}
