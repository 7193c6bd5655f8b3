/**
 * `modelship sign`: writes `signature.json` into a package, a DSSE envelope around the in-toto statement
 * of lib/trust/statement.ts. Only a package that verifies is signed (a signature vouches for what the
 * package does, not only for its bytes), and the file is written atomically, so a failed or interrupted
 * sign leaves the previous signature, or none.
 */
import { join } from 'node:path';
import { requireVerified } from '../package/verify';
import { SIGNATURE_FILE } from '../package/package-files';
import { writeDataAtomically } from '../util/atomic-file';
import { type Envelope, IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from './envelope';
import type { Signer } from './local-keys';
import { packageStatement } from './statement';

export interface SignResult {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly keyId: string;
  /** Files signed. */
  readonly files: number;
}

export async function signPackage(dir: string, signer: Signer): Promise<SignResult> {
  const manifest = await requireVerified(dir, dir, 'it is not signed');
  const statement = await packageStatement(dir, manifest);
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const { sig, keyId } = await signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
  const envelope: Envelope = {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: sig.toString('base64') }],
  };
  const file = join(dir, SIGNATURE_FILE);
  await writeDataAtomically(file, `${JSON.stringify(envelope, null, 2)}\n`);
  return { file, name: manifest.name, version: manifest.version, keyId, files: statement.subject.length };
}
