/**
 * The one error hierarchy. Every failure modelship expects (a bad request, a bad package, a model it
 * cannot convert, a refused upload, a bad config, a failed client call, a command line that cannot work)
 * is a ModelshipError: its `kind` says which, and `status` is set where an HTTP status belongs to it.
 * Callers match subclasses with `instanceof`; the CLI prints any ModelshipError as one line, and
 * anything else is a bug that keeps its stack.
 */
export type ErrorKind =
  'protocol' | 'package' | 'conversion' | 'registry' | 'config' | 'client' | 'usage' | 'server' | 'output' | 'compression' | 'trust';

export abstract class ModelshipError extends Error {
  abstract readonly kind: ErrorKind;
  /** The HTTP status that goes with this error, where there is one. */
  readonly status?: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command line that cannot work as given: the CLI exits 2, as for commander's own usage errors. */
export class UsageError extends ModelshipError {
  readonly kind = 'usage';
}

/** The local server cannot start: a busy port, an address it may not bind. */
export class ServerStartError extends ModelshipError {
  readonly kind = 'server';
}

/** The place a writer was told to write already holds something, and nothing said to replace it. */
export class OutputExistsError extends ModelshipError {
  readonly kind = 'output';
}
