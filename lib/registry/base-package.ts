/**
 * The base package a reuse or compression command starts from, as a local directory: a path as it
 * is, or NAME@VERSION pulled from --registry (verified, golden samples re-run) into a temporary
 * directory that is removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryCommandOptions } from './cli';
import { parseRegistryUri } from './location';
import { parsePackageRef, pullPackage } from './pull';
import { createRegistryClient } from './s3';

export type RegistryOptions = Partial<RegistryCommandOptions>;

/** The base as a local directory: a path as it is, or NAME@VERSION pulled from --registry. */
export async function withBase<T>(base: string, o: RegistryOptions, use: (dir: string) => Promise<T>): Promise<T> {
  if (!o.registry) return use(base);
  const ref = parsePackageRef(base);
  const work = await mkdtemp(join(tmpdir(), 'modelship-base-'));
  try {
    const dir = join(work, 'base');
    const pulled = await pullPackage({
      client: createRegistryClient(o),
      registry: parseRegistryUri(o.registry),
      name: ref.name,
      version: ref.version,
      outDir: dir,
      runSamples: true,
    });
    console.log(`pulled the base ${pulled.name}@${pulled.version} from ${pulled.uri}`);
    return await use(dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
