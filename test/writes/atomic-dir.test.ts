/**
 * The shared atomic writers (lib/util/atomic-dir.ts, atomic-file.ts) on their own: what appears, what is
 * left on an error or an abandon, and how the leftovers of a killed writer are recovered.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OutputExistsError } from '../../lib/errors';
import { abandonPendingWrites, recoverInterruptedWrite, withTempSibling, writeDirAtomically } from '../../lib/util/atomic-dir';
import { writeDataAtomically, writeFileAtomically } from '../../lib/util/atomic-file';
import { tempDir } from '../helpers/fixtures';
import { deadPid, sameFiles, siblingsOf, snapshot } from './snapshot';

function oldPackage(dir: string): void {
  mkdirSync(join(dir, 'samples'), { recursive: true });
  writeFileSync(join(dir, 'modelship.json'), '{"version":"1.0.0"}\n');
  writeFileSync(join(dir, 'samples', '0.request.json'), '{"inputs":[]}\n');
}

describe('writeDirAtomically', () => {
  test('GIVEN no destination WHEN written THEN the whole directory appears and no sibling is left', async () => {
    const dest = join(tempDir(), 'pkg');

    const result = await writeDirAtomically(dest, async (dir) => {
      mkdirSync(join(dir, 'samples'));
      await writeFile(join(dir, 'samples', 'a.json'), 'a');
      await writeFile(join(dir, 'modelship.json'), 'm');
      return 42;
    });

    expect(result).toBe(42);
    expect([...snapshot(dest)!.keys()].sort()).toEqual(['modelship.json', 'samples/a.json']);
    expect(siblingsOf(dest)).toEqual([]);
  });

  test('GIVEN a write in progress THEN the copy being written is hidden and never one level down from the parent', async () => {
    const parent = tempDir();
    const dest = join(parent, 'pkg');
    let seen: string[] = [];

    await writeDirAtomically(dest, async (dir) => {
      await writeFile(join(dir, 'modelship.json'), 'm');
      seen = readdirSync(parent);
    });

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\.pkg\.tmp-\d+-[0-9a-f]{12}$/);
    // A scanner that looks for <parent>/<entry>/modelship.json (bin/app.ts does) finds nothing there.
    expect(existsSync(join(parent, seen[0], 'modelship.json'))).toBe(false);
  });

  test('GIVEN fill throws WHEN writing a new directory THEN the destination stays absent and nothing is left', async () => {
    const parent = tempDir();
    const dest = join(parent, 'pkg');

    const writing = writeDirAtomically(dest, async (dir) => {
      await writeFile(join(dir, 'modelship.json'), 'm');
      throw new Error('model refused');
    });

    await expect(writing).rejects.toThrow('model refused');
    expect(readdirSync(parent)).toEqual([]);
  });

  test('GIVEN an old directory WHEN the replacement fails its check THEN the old one is byte-identical', async () => {
    const dest = join(tempDir(), 'pkg');
    oldPackage(dest);
    const before = snapshot(dest);

    const writing = writeDirAtomically(
      dest,
      async (dir) => {
        await writeFile(join(dir, 'modelship.json'), '{"version":"2.0.0"}\n');
      },
      { replace: true, check: () => Promise.reject(new Error('golden sample 0 differs')) },
    );

    await expect(writing).rejects.toThrow('golden sample 0 differs');
    expect(sameFiles(snapshot(dest), before)).toBe(true);
    expect(siblingsOf(dest)).toEqual([]);
  });

  test('GIVEN an old directory WHEN replaced THEN only the new files remain', async () => {
    const dest = join(tempDir(), 'pkg');
    oldPackage(dest);

    await writeDirAtomically(dest, (dir) => writeFile(join(dir, 'modelship.json'), '{"version":"2.0.0"}\n'), { replace: true });

    expect([...snapshot(dest)!.entries()].map(([p, b]) => [p, b.toString()])).toEqual([['modelship.json', '{"version":"2.0.0"}\n']]);
    expect(siblingsOf(dest)).toEqual([]);
  });

  test('GIVEN a non-empty destination and no replace THEN OutputExistsError before fill runs, and the files are untouched', async () => {
    const dest = join(tempDir(), 'pkg');
    oldPackage(dest);
    const before = snapshot(dest);
    let filled = false;

    const writing = writeDirAtomically(
      dest,
      () => {
        filled = true;
        return Promise.resolve();
      },
      { occupied: `${dest} already holds a package` },
    );

    await expect(writing).rejects.toThrow(OutputExistsError);
    await expect(writing).rejects.toThrow(`${dest} already holds a package`);
    expect(filled).toBe(false);
    expect(sameFiles(snapshot(dest), before)).toBe(true);
  });

  test('GIVEN an empty destination directory THEN it is filled without replace', async () => {
    const dest = join(tempDir(), 'pkg');
    mkdirSync(dest);
    await writeDirAtomically(dest, (dir) => writeFile(join(dir, 'a'), 'a'));
    expect(readdirSync(dest)).toEqual(['a']);
  });

  test('GIVEN the destination fills up while the new copy is written THEN OutputExistsError and the intruder stays', async () => {
    const dest = join(tempDir(), 'pkg');

    const writing = writeDirAtomically(dest, async (dir) => {
      await writeFile(join(dir, 'a'), 'mine');
      mkdirSync(dest);
      writeFileSync(join(dest, 'b'), 'theirs');
    });

    await expect(writing).rejects.toThrow(OutputExistsError);
    expect(readdirSync(dest)).toEqual(['b']);
    expect(siblingsOf(dest)).toEqual([]);
  });

  test('GIVEN a write in flight WHEN abandoned (as the CLI does on Ctrl-C) THEN the old directory is whole and the temporary copy is gone', async () => {
    const dest = join(tempDir(), 'pkg');
    oldPackage(dest);
    const before = snapshot(dest);
    let undone = -1;

    await writeDirAtomically(
      dest,
      async (dir) => {
        await writeFile(join(dir, 'modelship.json'), 'new');
        undone = abandonPendingWrites();
        throw new Error('interrupted');
      },
      { replace: true },
    ).catch(() => undefined);

    expect(undone).toBe(1);
    expect(sameFiles(snapshot(dest), before)).toBe(true);
    expect(siblingsOf(dest)).toEqual([]);
  });
});

describe('recovery of what a killed writer left', () => {
  test('GIVEN only an aside copy (killed between the two renames) WHEN recovered THEN the old package is back, byte for byte', async () => {
    const parent = tempDir();
    const dest = join(parent, 'pkg');
    const aside = join(parent, `.pkg.old-${await deadPid()}-0123456789ab`);
    oldPackage(join(aside, 'pkg'));
    const before = snapshot(join(aside, 'pkg'));

    await recoverInterruptedWrite(dest);

    expect(sameFiles(snapshot(dest), before)).toBe(true);
    expect(readdirSync(parent)).toEqual(['pkg']);
  });

  test('GIVEN an aside copy and a new package in place (killed before the delete) WHEN recovered THEN the new one stays and the aside goes', async () => {
    const parent = tempDir();
    const dest = join(parent, 'pkg');
    mkdirSync(dest);
    writeFileSync(join(dest, 'modelship.json'), 'new');
    oldPackage(join(parent, `.pkg.old-${await deadPid()}-0123456789ab`, 'pkg'));

    await recoverInterruptedWrite(dest);

    expect(readFileSync(join(dest, 'modelship.json'), 'utf8')).toBe('new');
    expect(readdirSync(parent)).toEqual(['pkg']);
  });

  test('GIVEN an aside copy of a live writer THEN it is left alone', async () => {
    const parent = tempDir();
    const dest = join(parent, 'pkg');
    // The parent of this jest worker is alive for as long as the test runs.
    const aside = join(parent, `.pkg.old-${process.ppid}-0123456789ab`);
    oldPackage(join(aside, 'pkg'));

    await recoverInterruptedWrite(dest);

    expect(existsSync(dest)).toBe(false);
    expect(existsSync(join(aside, 'pkg', 'modelship.json'))).toBe(true);
  });

  test('GIVEN a stale temporary copy of a dead writer WHEN the next write runs THEN it is removed; other names are kept', async () => {
    const parent = tempDir();
    const dest = join(parent, 'pkg');
    const stale = join(parent, `.pkg.tmp-${await deadPid()}-0123456789ab`);
    oldPackage(join(stale, 'pkg'));
    mkdirSync(join(parent, '.pkg.tmp-notours'));
    mkdirSync(join(parent, '.other.tmp-1-0123456789ab'));

    await writeDirAtomically(dest, (dir) => writeFile(join(dir, 'a'), 'a'));

    expect(readdirSync(parent).sort()).toEqual(['.other.tmp-1-0123456789ab', '.pkg.tmp-notours', 'pkg']);
  });
});

describe('withTempSibling', () => {
  test('GIVEN work that throws THEN the temporary directory is removed', async () => {
    const parent = tempDir();
    let inside = '';
    await expect(
      withTempSibling(join(parent, 'pkg'), async (dir) => {
        inside = dir;
        await writeFile(join(dir, 'download.tgz'), 'x');
        throw new Error('network');
      }),
    ).rejects.toThrow('network');
    expect(inside).toMatch(/\.pkg\.tmp-\d+-[0-9a-f]{12}$/);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('writeFileAtomically', () => {
  test('GIVEN an old file WHEN the new one fails half-way THEN the old file is whole and no temporary file is left', async () => {
    const parent = tempDir();
    const dest = join(parent, 'model.onnx');
    writeFileSync(dest, 'old model');

    const writing = writeFileAtomically(dest, async (temp) => {
      await writeFile(temp, 'half of a new');
      throw new Error('conversion failed');
    });

    await expect(writing).rejects.toThrow('conversion failed');
    expect(readFileSync(dest, 'utf8')).toBe('old model');
    expect(readdirSync(parent)).toEqual(['model.onnx']);
  });

  test('GIVEN an old file WHEN written THEN replaced whole; a stale temporary file of a dead writer is removed', async () => {
    const parent = tempDir();
    const dest = join(parent, 'model.onnx');
    writeFileSync(dest, 'old model');
    writeFileSync(join(parent, `.model.onnx.tmp-${await deadPid()}-0123456789ab`), 'half');

    await writeDataAtomically(dest, 'new model');

    expect(readFileSync(dest, 'utf8')).toBe('new model');
    expect(readdirSync(parent)).toEqual(['model.onnx']);
  });
});
