/**
 * POST /v2/repository/index, from Triton's model repository extension: the request body it takes. The
 * answer lists every model a server was given, the ones it serves and the ones it refused, with why.
 */
import { decodeUtf8 } from './decode';
import { BadRequestError } from './errors';
import { parseJson } from './json';

/** Reads the optional body: nothing or `{}` lists every model, `{"ready": true}` only the ready ones. */
export function decodeRepositoryIndexRequest(body: Uint8Array): { readonly readyOnly: boolean } {
  if (body.byteLength === 0) return { readyOnly: false };
  const parsed = parseJson(decodeUtf8(body, 'request body'), 'request body');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError('the repository index request body must be a JSON object, such as {"ready": true}');
  }
  const ready = (parsed as Record<string, unknown>).ready;
  if (ready !== undefined && typeof ready !== 'boolean') throw new BadRequestError('ready must be true or false');
  return { readyOnly: ready === true };
}
