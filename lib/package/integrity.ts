/**
 * The one check that a model file holds the bytes its manifest records: the size first (cheap, and it
 * catches truncation before any hashing), then the sha256. The engine, the Triton and registry paths and
 * the CDK constructs all check through here, so a tampered model reads the same wherever it is caught.
 */
import { stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { PackageError } from './errors';
import { sha256, sha256File, sha256FileSync } from './hash';
import type { Manifest } from './manifest';

type ModelRecord = Manifest['model'];

export function sizeMismatch(path: string, actual: number, model: ModelRecord): PackageError {
  return new PackageError(
    `${path} is ${actual} bytes but the manifest says ${model.bytes}: the model has been changed since it was packaged`,
  );
}

export function hashMismatch(path: string, actual: string, model: ModelRecord): PackageError {
  return new PackageError(
    `${path} has sha256 ${actual} but the manifest says ${model.sha256}: the model has been tampered with or changed since it was packaged`,
  );
}

/** Checks bytes already in memory, so that what was checked is exactly what gets used. */
export function checkModelBytes(bytes: Uint8Array, model: ModelRecord, path: string): void {
  if (bytes.byteLength !== model.bytes) throw sizeMismatch(path, bytes.byteLength, model);
  const actual = sha256(bytes);
  if (actual !== model.sha256) throw hashMismatch(path, actual, model);
}

function missing(path: string, err: unknown): PackageError {
  return new PackageError(`${path}: the model file the manifest names cannot be read: ${(err as Error).message}`);
}

/** Checks `<dir>/<model.file>` without holding it in memory; returns its path. */
export async function checkModelFile(dir: string, model: ModelRecord): Promise<string> {
  const path = join(dir, model.file);
  const info = await stat(path).catch((err: unknown) => {
    throw missing(path, err);
  });
  if (info.size !== model.bytes) throw sizeMismatch(path, info.size, model);
  const actual = await sha256File(path);
  if (actual !== model.sha256) throw hashMismatch(path, actual, model);
  return path;
}

/** The synchronous form, for CDK synth, where constructs cannot await. */
export function checkModelFileSync(dir: string, model: ModelRecord): string {
  const path = join(dir, model.file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw missing(path, err);
  }
  if (size !== model.bytes) throw sizeMismatch(path, size, model);
  const actual = sha256FileSync(path);
  if (actual !== model.sha256) throw hashMismatch(path, actual, model);
  return path;
}
