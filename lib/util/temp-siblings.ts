/**
 * What the atomic writers (atomic-dir.ts, atomic-file.ts) share: how their temporary siblings are named,
 * how stale ones are told from live ones, how bytes are made durable, and which writes are in flight so
 * that a signal handler can undo them.
 *
 * A temporary sibling lives in the same directory as its destination, because rename(2) is atomic only
 * within one file system. Its name starts with a dot (shell globs such as `models/*` and `ls` skip it) and
 * carries the writer's pid, so a later run can tell the leftovers of a killed writer (pid gone) from the
 * work of one still running (pid alive), and remove only the former:
 *
 * ```
 * .NAME.tmp-<pid>-<random>   the new copy being written (a directory wrapper, or a file)
 * .NAME.old-<pid>-<random>   a directory wrapper holding the old copy while a --force swap runs
 * ```
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';

export type SiblingKind = 'tmp' | 'old';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `.NAME.<kind>-<pid>-<random>` beside `dest`. */
export function siblingPath(dest: string, kind: SiblingKind): string {
  return join(dirname(dest), `.${basename(dest)}.${kind}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** What the names of the siblings of one kind of a file named `destName` match; group 1 is the writer's pid. */
function siblingPattern(destName: string, kind: SiblingKind): RegExp {
  return new RegExp(`^\\.${escapeRegExp(destName)}\\.${kind}-(\\d+)-[0-9a-f]{12}$`);
}

/** Whether `name` is the name of a sibling of one kind of a file named `destName`, whoever wrote it. */
export function isSiblingName(name: string, destName: string, kind: SiblingKind): boolean {
  return siblingPattern(destName, kind).test(name);
}

/** The siblings of `dest` of one kind, with the pid that made each. */
export async function findSiblings(dest: string, kind: SiblingKind): Promise<{ path: string; pid: number }[]> {
  const pattern = siblingPattern(basename(dest), kind);
  const names = await readdir(dirname(dest)).catch((err: NodeJS.ErrnoException) => {
    // No parent, or one this process may not read: there is nothing it could recover there anyway.
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EACCES' || err.code === 'EPERM') return [] as string[];
    throw err;
  });
  return names.flatMap((name) => {
    const match = pattern.exec(name);
    return match ? [{ path: join(dirname(dest), name), pid: Number(match[1]) }] : [];
  });
}

/**
 * Whether the process that made a sibling may still be writing it. Our own pid counts as gone: this
 * process's writes in flight are in {@link pending} and are never cleaned up from under it, and a pid
 * reused after a crash (pid 1 in a container) must not keep a leftover forever.
 */
export function writerAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the `tmp` siblings of `dest` that no live writer owns: the leftovers of a killed run. */
export async function removeStaleTemps(dest: string): Promise<void> {
  for (const { path, pid } of await findSiblings(dest, 'tmp')) {
    if (!writerAlive(pid) && !isPending(path)) await rm(path, { recursive: true, force: true });
  }
}

/** fsync on a directory is how its entries (a rename, a new file) become durable; some platforms refuse it. */
function fsyncPath(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EISDIR' || (err as NodeJS.ErrnoException).code === 'EPERM') return;
    throw err;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF' && code !== 'EISDIR') throw err;
  } finally {
    closeSync(fd);
  }
}

/** fsyncs every file under `path` (or `path` itself, a file), then every directory, deepest first. */
export function fsyncTree(path: string): void {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory() || entry.isFile()) fsyncTree(child);
    }
  }
  fsyncPath(path);
}

/** Makes a rename or unlink in `dir` durable. */
export function fsyncDir(dir: string): void {
  fsyncPath(dir);
}

/** A write in flight: `abandon` undoes it synchronously, leaving the destination as it was. */
export interface PendingWrite {
  /** Every temporary sibling the write owns. */
  readonly paths: () => readonly string[];
  readonly abandon: () => void;
}

const pending = new Set<PendingWrite>();

/** Whether a write in flight in this process owns `path`. */
export function isPending(path: string): boolean {
  return [...pending].some((w) => w.paths().includes(path));
}

export function trackWrite(write: PendingWrite): () => void {
  pending.add(write);
  return () => pending.delete(write);
}

/**
 * Undoes every atomic write in flight in this process, synchronously, so that a SIGINT or SIGTERM handler
 * can call it and then exit: temporary copies are removed, and a replaced package that was moved aside is
 * moved back (or, when the new one is already in place, the aside copy is removed). The swaps themselves
 * run synchronously (see atomic-dir.ts), so a handler never runs in the middle of one.
 * @returns how many writes were undone
 */
export function abandonPendingWrites(): number {
  const writes = [...pending];
  pending.clear();
  for (const write of writes) write.abandon();
  return writes.length;
}

/** Synchronous helpers for the abandon paths, which run inside signal handlers. */
export function removeSync(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

export function renameSyncIfPresent(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Creates the parent of `dest` and returns an undo: a writer that fails must not leave behind even the
 * directories it made for its output. The undo removes them, deepest first, while they are empty.
 */
export async function makeParent(dest: string): Promise<() => Promise<void>> {
  const parent = dirname(dest);
  const first = await mkdir(parent, { recursive: true });
  if (first === undefined) return () => Promise.resolve();
  return async () => {
    for (let dir = parent; !relative(first, dir).startsWith('..'); dir = dirname(dir)) {
      const removed = await rmdir(dir).then(
        () => true,
        () => false,
      );
      if (!removed || dir === first) return;
    }
  };
}
