import { readFileSync } from 'node:fs';

/**
 * Reads and parses a JSON file, turning both failures into the caller's own error class with the path
 * in the message, so a user sees which file is unreadable or malformed.
 */
export function readJsonFile(path: string, makeError: (message: string) => Error): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw makeError(`${path} cannot be read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw makeError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}
