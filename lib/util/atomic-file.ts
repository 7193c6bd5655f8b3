/**
 * Writing one file (a converted .onnx, a .tgz) atomically: into a temporary sibling
 * `.NAME.tmp-<pid>-<random>` (see temp-siblings.ts), fsynced, then renamed over the destination. rename(2)
 * replaces a file in one step, so a reader sees the old file or the new one, never part of either, and a
 * failure, Ctrl-C or crash leaves the old file (or none) in place. A temporary file a SIGKILL left behind
 * is removed by the next write of the same destination.
 */
import { renameSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fsyncDir, fsyncTree, makeParent, removeStaleTemps, removeSync, siblingPath, trackWrite } from './temp-siblings';

/**
 * `fill` writes the new file at the temporary path it is given; when it resolves, the file is fsynced and
 * renamed to `destFile`. On any error the temporary file is removed and `destFile` is as it was.
 * @returns what `fill` returns
 */
export async function writeFileAtomically<T>(destFile: string, fill: (tempFile: string) => Promise<T>): Promise<T> {
  const dest = resolve(destFile);
  const undoParent = await makeParent(dest);
  await removeStaleTemps(dest);
  const temp = siblingPath(dest, 'tmp');
  const untrack = trackWrite({ paths: () => [temp], abandon: () => removeSync(temp) });
  try {
    const result = await fill(temp);
    fsyncTree(temp);
    renameSync(temp, dest);
    fsyncDir(dirname(dest));
    return result;
  } catch (err) {
    await rm(temp, { force: true, recursive: true });
    await undoParent();
    throw err;
  } finally {
    untrack();
  }
}

/** {@link writeFileAtomically} for bytes already in memory. */
export function writeDataAtomically(destFile: string, data: string | Uint8Array): Promise<void> {
  return writeFileAtomically(destFile, (temp) => writeFile(temp, data));
}
