/**
 * Writing a directory (a package, a Triton repository entry) so that a crash, an error or Ctrl-C never
 * leaves half of one, and never destroys the one it replaces.
 *
 * The new directory is written inside a temporary wrapper beside the destination,
 * `.NAME.tmp-<pid>-<random>/NAME`, its files and directories are fsynced, and then it is renamed into
 * place. The wrapper is there so that the copy being written is two levels down: anything that scans a
 * folder for `<dir>/modelship.json` (bin/app.ts, `modelship serve models/*`) never takes a temporary copy
 * for a package.
 *
 * rename(2) cannot replace a non-empty directory, so replacing one (`--force`) takes two renames: the old
 * directory goes aside into `.NAME.old-<pid>-<random>/NAME`, the new one is renamed in, and only then is the
 * aside copy deleted. Both renames run synchronously, back to back, so a signal handler in this process
 * never runs between them (see {@link abandonPendingWrites}). A SIGKILL or power loss between them leaves
 * no directory at the destination and the old one aside: {@link recoverInterruptedWrite}, which every
 * writer runs first and readers may run, moves it back.
 *
 * What a reader may briefly see at the destination:
 * - a new directory: nothing until the rename, then all of it, already fsynced;
 * - a replaced directory: the old one, then for the moment between the two renames nothing (ENOENT),
 *   then the new one. A reader that opened the old files keeps reading them whole (they are unlinked only
 *   after the swap). A reader that opens files one by one across the swap can mix old and new; the
 *   manifest's model sha256, which every loader checks, catches that, and a retry reads the new one whole.
 */
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputExistsError } from '../errors';
import {
  findSiblings,
  fsyncDir,
  fsyncTree,
  isPending,
  makeParent,
  removeStaleTemps,
  removeSync,
  renameSyncIfPresent,
  siblingPath,
  trackWrite,
  writerAlive,
} from './temp-siblings';

export { abandonPendingWrites } from './temp-siblings';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Finishes what a killed writer left beside `dest`: an aside copy with nothing at `dest` is moved back (the
 * swap was cut between its two renames), an aside copy with something at `dest` is deleted (the swap was
 * done), and temporary copies are deleted. Siblings a live writer owns are left alone. Cheap when there is
 * nothing to do: one readdir of the parent.
 */
export async function recoverInterruptedWrite(dest: string): Promise<void> {
  const target = resolve(dest);
  for (const { path, pid } of await findSiblings(target, 'old')) {
    if (writerAlive(pid) || isPending(path)) continue;
    const old = join(path, basename(target));
    if (!(await exists(target)) && (await exists(old))) {
      await rename(old, target);
      fsyncDir(dirname(target));
    }
    await rm(path, { recursive: true, force: true });
  }
  await removeStaleTemps(target);
}

/** 'missing', 'empty' (an empty directory, which rename(2) may replace), or 'full'. */
function destState(dest: string): 'missing' | 'empty' | 'full' {
  try {
    if (!statSync(dest).isDirectory()) return 'full';
    return readdirSync(dest).length === 0 ? 'empty' : 'full';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

/** Whether `dir` is missing or an empty directory: a place a writer may fill without `replace`. */
export async function isEmptyOrMissing(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR') return ['(a file)'];
    throw err;
  });
  return entries.length === 0;
}

export interface WriteDirOptions {
  /** Replace what `dest` holds. @default false: `dest` must be missing or an empty directory */
  readonly replace?: boolean;
  /** The OutputExistsError message when `dest` is occupied and `replace` is not set. @default - "DEST is not empty" */
  readonly occupied?: string;
  /**
   * Runs on the complete new directory before it is moved into place (a package's golden samples); a
   * throw leaves `dest` as it was. @default - no check
   */
  readonly check?: (stagedDir: string) => Promise<void>;
}

/**
 * Writes a directory at `destDir` atomically: `fill` writes into a fresh staging directory, which is
 * checked, fsynced and renamed into place. On any error nothing new is left and `destDir` is as it was.
 * @returns what `fill` returns
 * @throws OutputExistsError when `destDir` is occupied and `replace` is not set
 */
export async function writeDirAtomically<T>(
  destDir: string,
  fill: (stagedDir: string) => Promise<T>,
  options: WriteDirOptions = {},
): Promise<T> {
  const dest = resolve(destDir);
  const occupied = () => new OutputExistsError(options.occupied ?? `${destDir} is not empty`);
  const undoParent = await makeParent(dest);
  await recoverInterruptedWrite(dest);
  if (!options.replace && !(await isEmptyOrMissing(dest))) throw occupied();

  const wrapper = siblingPath(dest, 'tmp');
  const staged = join(wrapper, basename(dest));
  let aside: string | undefined;
  let swapped = false;
  const untrack = trackWrite({
    paths: () => (aside !== undefined ? [wrapper, aside] : [wrapper]),
    abandon: () => {
      // Before the swap the destination was never touched; after it, the new copy is complete and stays.
      if (aside !== undefined) removeSync(aside);
      removeSync(wrapper);
    },
  });
  try {
    await mkdir(staged, { recursive: true });
    const result = await fill(staged);
    await options.check?.(staged);
    fsyncTree(staged);
    fsyncDir(wrapper);

    // Synchronous from here to the end of the swap: no signal handler, and no other writer in this
    // process, can run between looking at the destination and the renames.
    const state = destState(dest);
    if (state === 'full' && !options.replace) throw occupied();
    if (state !== 'full') {
      renameSync(staged, dest);
    } else {
      aside = siblingPath(dest, 'old');
      mkdirSync(aside);
      const old = join(aside, basename(dest));
      renameSync(dest, old);
      try {
        renameSync(staged, dest);
      } catch (err) {
        renameSyncIfPresent(old, dest);
        throw err;
      }
    }
    swapped = true;
    fsyncDir(dirname(dest));

    if (aside !== undefined) await rm(aside, { recursive: true, force: true });
    await rm(wrapper, { recursive: true, force: true });
    return result;
  } catch (err) {
    if (!swapped) {
      // An aside wrapper still holding the old copy (its move back failed) is left for recovery.
      if (aside !== undefined && destState(join(aside, basename(dest))) === 'missing') removeSync(aside);
      removeSync(wrapper);
      await undoParent();
    }
    throw err;
  } finally {
    untrack();
  }
}

/**
 * Runs `work` with a temporary directory beside `dest` (for a download that will become `dest`), removed
 * afterwards, on an error, on {@link abandonPendingWrites}, or by the next writer of `dest` after a SIGKILL.
 */
export async function withTempSibling<T>(dest: string, work: (dir: string) => Promise<T>): Promise<T> {
  const target = resolve(dest);
  const undoParent = await makeParent(target);
  const dir = siblingPath(target, 'tmp');
  const untrack = trackWrite({ paths: () => [dir], abandon: () => removeSync(dir) });
  try {
    await mkdir(dir);
    return await work(dir);
  } finally {
    untrack();
    await rm(dir, { recursive: true, force: true });
    if (!(await exists(target))) await undoParent();
  }
}
