/**
 * Checking a package against a trust policy, in the order that says most about what failed:
 *
 * 1. envelope: `signature.json` is there and is a DSSE envelope of an in-toto statement;
 * 2. signature: a key of the policy verifies one of its signatures over the exact payload bytes;
 * 3. statement: the payload is a modelship package statement;
 * 4. digests: every signed file is there with the sha256 the statement gives;
 * 5. unsigned files: no file in the directory is left out of the statement;
 * 6. package: the manifest signed is this package's, by name and version.
 *
 * Each refusal is a SignatureError naming the file and the check. Loaders (serve, pull, a Lambda init,
 * the pre-traffic hook) call this before they read anything else of the package.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../package/hash';
import { MANIFEST_FILE, readManifest } from '../package/manifest';
import { SIGNATURE_FILE } from '../package/package-files';
import { parseEnvelope, preAuthEncoding } from './envelope';
import { SignatureError } from './errors';
import { filesInDirectory, parseStatement } from './statement';
import { describeTrusted, type TrustPolicy } from './trust-policy';

export interface SignatureCheckOptions {
  /**
   * Check only the signed files that are present, and allow missing ones: for the pre-traffic hook,
   * whose asset holds the manifest and golden samples but not the model. @default false
   */
  readonly presentFilesOnly?: boolean;
  /**
   * The caller loads the model with InferenceEngine.load, which hashes the model's bytes as it reads them
   * and refuses them unless they match the manifest's sha256. The check then does not hash the model file
   * itself: it verifies the manifest first, and requires the model digest the statement signs to be the
   * manifest's, so that the loader's check is the signature's. A signed 200 MB model is hashed once at
   * INIT, not twice (about 0.4 s). @default false
   */
  readonly modelHashedByLoader?: boolean;
}

export interface TrustedPackage {
  readonly name: string;
  readonly version: string;
  /** The id of the key that verified. */
  readonly keyId: string;
  /** Where that key came from. */
  readonly keySource: string;
  /** Signed files checked. */
  readonly files: number;
}

export async function verifyPackageSignature(
  dir: string,
  policy: TrustPolicy,
  options: SignatureCheckOptions = {},
): Promise<TrustedPackage> {
  const path = join(dir, SIGNATURE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SignatureError(
      code === 'ENOENT'
        ? `${path} is missing: the package is unsigned, and the trust policy accepts only packages signed by ${describeTrusted(policy)}`
        : `${path} cannot be read: ${(err as Error).message}`,
    );
  }
  const envelope = parseEnvelope(text, path);
  const payload = Buffer.from(envelope.payload, 'base64');
  const signed = preAuthEncoding(envelope.payloadType, payload);

  let trusted: { keyId: string; source: string } | undefined;
  for (const signature of envelope.signatures) {
    const sig = Buffer.from(signature.sig, 'base64');
    for (const verifier of policy.verifiers) {
      if (await verifier.verify(signed, sig)) {
        trusted = { keyId: signature.keyid || verifier.keyId, source: verifier.source };
        break;
      }
    }
    if (trusted) break;
  }
  if (trusted === undefined) {
    const ids = envelope.signatures.map((s) => s.keyid || '(no keyid)');
    const known = new Set(policy.verifiers.map((v) => v.keyId));
    throw new SignatureError(
      ids.some((id) => known.has(id))
        ? `${path}: signature check failed: the signature by ${ids.join(', ')} does not verify; the file was altered after signing, or signed over other content`
        : `${path}: signature check failed: signed by ${ids.join(', ')}, a key the trust policy does not hold (it trusts ${describeTrusted(policy)})`,
    );
  }

  const statement = parseStatement(payload, path);
  const signedNames = new Set<string>();
  // With modelHashedByLoader, the manifest goes first: the model's signed digest is checked against it.
  const subjects = options.modelHashedByLoader
    ? [...statement.subject].sort((a, b) => Number(b.name === MANIFEST_FILE) - Number(a.name === MANIFEST_FILE))
    : statement.subject;
  let modelLeftToLoader: { readonly file: string; readonly sha256: string } | undefined;
  for (const subject of subjects) {
    signedNames.add(subject.name);
    if (subject.name.split('/').some((part) => part === '..' || part === '') || subject.name.startsWith('/')) {
      throw new SignatureError(`${path}: the statement names "${subject.name}", which is not a path inside the package`);
    }
    const file = join(dir, subject.name);
    if (modelLeftToLoader?.file === subject.name) {
      if (subject.digest.sha256 !== modelLeftToLoader.sha256) {
        throw new SignatureError(
          `${file}: digest check failed: the signature says sha256 ${subject.digest.sha256}, but the signed ${MANIFEST_FILE} says ${modelLeftToLoader.sha256}`,
        );
      }
      continue;
    }
    const actual = await sha256File(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && options.presentFilesOnly) return undefined;
      throw new SignatureError(
        `${file}: digest check failed: the file is signed but ${err.code === 'ENOENT' ? 'missing' : `unreadable (${err.message})`}`,
      );
    });
    if (actual !== undefined && actual !== subject.digest.sha256) {
      throw new SignatureError(
        `${file}: digest check failed: sha256 ${actual}, but the signature says ${subject.digest.sha256}; the file was changed after signing`,
      );
    }
    if (options.modelHashedByLoader && subject.name === MANIFEST_FILE) {
      const { model } = readManifest(dir);
      modelLeftToLoader = { file: model.file, sha256: model.sha256 };
    }
  }
  const unsigned = (await filesInDirectory(dir)).filter((f) => !signedNames.has(f));
  if (unsigned.length > 0) {
    throw new SignatureError(
      `${join(dir, unsigned[0])}: unsigned-file check failed: the file is in the package but not signed${unsigned.length > 1 ? ` (nor are ${unsigned.slice(1).join(', ')})` : ''}`,
    );
  }

  const claimed = statement.predicate.package;
  const manifestSubject = statement.subject.find((s) => s.name === MANIFEST_FILE);
  if (manifestSubject === undefined || manifestSubject.digest.sha256 !== claimed.manifest.digest.sha256) {
    throw new SignatureError(`${path}: package check failed: the statement's manifest digest is not that of its ${MANIFEST_FILE} subject`);
  }
  const manifest = readManifest(dir);
  if (manifest.name !== claimed.name || manifest.version !== claimed.version) {
    throw new SignatureError(
      `${path}: package check failed: the signature is over ${claimed.name}@${claimed.version}, but the package is ${manifest.name}@${manifest.version}`,
    );
  }
  return {
    name: manifest.name,
    version: manifest.version,
    keyId: trusted.keyId,
    keySource: trusted.source,
    files: statement.subject.length,
  };
}
