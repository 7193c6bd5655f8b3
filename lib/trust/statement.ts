/**
 * What a package signature says: an in-toto v1 statement whose subjects are every file of the package
 * (lib/package/package-files.ts) with its sha256, and whose predicate names the package and its manifest.
 *
 * It follows OpenSSF model signing (sigstore/model-transparency, predicate
 * `https://model_signing/signature/v1.0`) where that applies to key-based signing: per-file sha256
 * digests, the "files" serialization without symlinks, the signature file itself ignored. It differs in
 * that the files are the statement's subjects (model signing lists them as predicate resources under one
 * subject whose digest hashes them all), so any in-toto tool can check one file; and the predicate names the
 * modelship package, so a signature over another package or version is refused by name.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { z as Z } from 'zod';
import { zod } from '../util/lazy-zod';
import { isSiblingName } from '../util/temp-siblings';
import { schemaProblems } from '../util/schema-problems';
import { SHA256_HEX, sha256File } from '../package/hash';
import { MANIFEST_FILE, type Manifest } from '../package/manifest';
import { packageFiles, SIGNATURE_FILE, SOURCE_FILE } from '../package/package-files';
import { SignatureError } from './errors';

// The same lazily loaded zod as the package schemas (lib/util/lazy-zod.ts): one copy of it in a bundle.
const z = zod();

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PACKAGE_PREDICATE_TYPE = 'https://modelship.dev/package-signature/v1';

const digestSchema = z.strictObject({ sha256: z.string().regex(SHA256_HEX, 'must be 64 lower-case hex digits') });

const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.strictObject({ name: z.string().min(1), digest: digestSchema })).min(1),
  predicateType: z.literal(PACKAGE_PREDICATE_TYPE),
  predicate: z.object({
    package: z.strictObject({
      name: z.string(),
      version: z.string(),
      manifest: z.strictObject({ name: z.literal(MANIFEST_FILE), digest: digestSchema }),
    }),
    serialization: z.strictObject({
      method: z.literal('files'),
      hash_type: z.literal('sha256'),
      allow_symlinks: z.literal(false),
      ignore_paths: z.array(z.string()),
    }),
  }),
});

export type PackageStatement = Z.infer<typeof statementSchema>;

/** Files that sit in a package directory without being part of the package, and so are never signed. */
const NOT_PACKAGE_FILES = new Set([SIGNATURE_FILE, SOURCE_FILE]);

/** A temporary copy of one of NOT_PACKAGE_FILES, being written or left by a killed writer. */
function isWriterTemp(path: string): boolean {
  return [...NOT_PACKAGE_FILES].some((name) => isSiblingName(path, name, 'tmp'));
}

/**
 * Every plain file under `dir`, package-relative with forward slashes, except the signature and the
 * registry's install record, and the temporary copies their atomic writers leave when killed
 * (lib/util/temp-siblings.ts): no loader reads one, no tarball holds one, and counting one as an unsigned
 * file would make an interrupted `sign` or `pull` refuse a package it never changed. A symlink or anything
 * else that is not a plain file is refused: the digest of a link's target says nothing about what a loader
 * would read later.
 */
export async function filesInDirectory(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/');
    if (entry.isDirectory()) continue;
    if (!entry.isFile()) throw new SignatureError(`${join(dir, path)} is not a plain file; a signed package holds only plain files`);
    if (!NOT_PACKAGE_FILES.has(path) && !isWriterTemp(path)) files.push(path);
  }
  return files.sort();
}

/** The statement a signature over the package in `dir` (whose manifest is `manifest`) makes. */
export async function packageStatement(dir: string, manifest: Manifest): Promise<PackageStatement> {
  const files = packageFiles(manifest);
  const named = new Set(files);
  const stray = (await filesInDirectory(dir)).filter((f) => !named.has(f));
  if (stray.length > 0) {
    throw new SignatureError(
      `${dir} holds files its manifest does not name (${stray.join(', ')}): they would be neither published nor signed; remove them first`,
    );
  }
  const subject = [];
  for (const name of files) subject.push({ name, digest: { sha256: await sha256File(join(dir, name)) } });
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PACKAGE_PREDICATE_TYPE,
    predicate: {
      package: { name: manifest.name, version: manifest.version, manifest: { name: MANIFEST_FILE, digest: subject[0].digest } },
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: [SIGNATURE_FILE] },
    },
  };
}

/** Parses a verified payload; `source` names the signature file in a refusal. */
export function parseStatement(payload: Buffer, source: string): PackageStatement {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new SignatureError(`${source}: the signed payload is not JSON (${(err as Error).message})`);
  }
  const result = statementSchema.safeParse(value);
  if (!result.success) {
    throw new SignatureError(`${source}: the signed payload is not a modelship package statement: ${schemaProblems(result.error)}`);
  }
  return result.data;
}
