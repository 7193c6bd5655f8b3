/**
 * DSSE, the envelope OpenSSF model signing and in-toto put a statement in: the signature is over the
 * pre-authentication encoding (PAE) of the payload type and the payload bytes, never over re-serialized
 * JSON, so what is verified is exactly the bytes that were signed.
 * Spec: https://github.com/secure-systems-lab/dsse/blob/master/envelope.md
 */
import type { z as Z } from 'zod';
import { zod } from '../util/lazy-zod';
import { schemaProblems } from '../util/schema-problems';
import { SignatureError } from './errors';

// The same lazily loaded zod as the package schemas (lib/util/lazy-zod.ts): one copy of it in a bundle.
const z = zod();

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const envelopeSchema = z.strictObject({
  payloadType: z.string().min(1),
  payload: z.string().regex(BASE64, 'must be base64'),
  signatures: z
    .array(z.strictObject({ keyid: z.string(), sig: z.string().min(1).regex(BASE64, 'must be base64') }))
    .min(1, 'must hold at least one signature'),
});

export type Envelope = Z.infer<typeof envelopeSchema>;

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** Parses an envelope's JSON text; `source` names the file in every refusal. */
export function parseEnvelope(text: string, source: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SignatureError(`${source} is not JSON (${(err as Error).message}), so it is not a DSSE envelope`);
  }
  const result = envelopeSchema.safeParse(value);
  if (!result.success) {
    throw new SignatureError(`${source} is not a DSSE envelope: ${schemaProblems(result.error)}`);
  }
  if (result.data.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new SignatureError(`${source}: payloadType is "${result.data.payloadType}"; a package signature is "${IN_TOTO_PAYLOAD_TYPE}"`);
  }
  return result.data;
}
