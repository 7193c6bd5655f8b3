/**
 * What the crash-safety tests compare: every file under a directory with its bytes, and the siblings a
 * writer leaves beside a destination.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

/** Every file under `dir`, by relative path, with its bytes; undefined when `dir` does not exist. */
export function snapshot(dir: string): Map<string, Buffer> | undefined {
  if (!existsSync(dir)) return undefined;
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p));
    }
  };
  if (statSync(dir).isDirectory()) walk(dir);
  return files;
}

/** Whether two snapshots hold the same paths with the same bytes. */
export function sameFiles(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  return [...a].every(([path, bytes]) => b.get(path)?.equals(bytes) === true);
}

/** The temporary and aside siblings of `dest` (lib/util/temp-siblings.ts names them). */
export function siblingsOf(dest: string): string[] {
  if (!existsSync(dirname(dest))) return [];
  const prefix = `.${basename(dest)}.`;
  return readdirSync(dirname(dest)).filter((n) => n.startsWith(prefix) && /\.(tmp|old)-\d+-[0-9a-f]{12}$/.test(n));
}

/** The pid of a process that has exited: one no live writer can own. */
export function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}
