/** What the page takes from a picked image file; bigger ones get a message, not a frozen tab. */

/** The largest file, as the server's default body limit: a bigger picture would not fit a request anyway. */
export const MAX_IMAGE_FILE_BYTES = 10 * 1024 * 1024;

/** The most pixels a picked image may have (64 megapixels), before it is scaled to the model's size. */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** Megabytes, for messages. */
export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
