import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, utimesSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { sha256 } from '../../lib/package/hash';
import { PackageError } from '../../lib/package/errors';
import { buildSageMakerArtifact, writeTritonRepository } from '../../lib/triton';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

const MNIST = join(__dirname, '..', '..', 'models', 'mnist-mlp');

interface Entry {
  header: Header;
  data: Buffer;
}

async function readTar(file: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        entries.push({ header, data: Buffer.concat(chunks) });
        next();
      });
      stream.resume();
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(gunzipSync(readFileSync(file)));
  await done;
  return entries;
}

/** A copy of `dir` in a new temp directory, with every file's times and modes changed. */
function copyAndTouch(dir: string, when: Date, mode: number): string {
  const copy = join(tempDir(), 'pkg');
  cpSync(dir, copy, { recursive: true });
  for (const f of ['modelship.json', 'model.onnx']) {
    chmodSync(join(copy, f), mode);
    utimesSync(join(copy, f), when, when);
  }
  return copy;
}

describe('buildSageMakerArtifact', () => {
  test('is byte-identical across builds from different places, times and file modes', async () => {
    // GIVEN two copies of a package, in different directories, with different mtimes and modes
    const { dir } = await makeTinyMlpPackage();
    const a = copyAndTouch(dir, new Date('2001-02-03T04:05:06Z'), 0o600);
    const b = copyAndTouch(dir, new Date('2024-12-31T23:59:59Z'), 0o664);
    // WHEN each is built into a different output directory, a second apart
    const first = await buildSageMakerArtifact(a, join(tempDir(), 'model.tar.gz'));
    await new Promise((r) => setTimeout(r, 1100));
    const second = await buildSageMakerArtifact(b, join(tempDir(), 'out', 'model.tar.gz'));
    // THEN the bytes are the same, and the returned sha256 is the file's
    const bytesA = readFileSync(first.file);
    const bytesB = readFileSync(second.file);
    expect(bytesA.equals(bytesB)).toBe(true);
    expect(first.sha256).toBe(sha256(bytesA));
    expect(second.sha256).toBe(first.sha256);
    expect(first.bytes).toBe(bytesA.length);
  });

  test('a different model gives a different artifact', async () => {
    const one = await buildSageMakerArtifact((await makeTinyMlpPackage(tempDir(), { seed: 1 })).dir, join(tempDir(), 'a.tar.gz'));
    const two = await buildSageMakerArtifact((await makeTinyMlpPackage(tempDir(), { seed: 2 })).dir, join(tempDir(), 'b.tar.gz'));
    expect(one.sha256).not.toBe(two.sha256);
  });

  test('different options give a different artifact', async () => {
    const { dir } = await makeTinyMlpPackage();
    const one = await buildSageMakerArtifact(dir, join(tempDir(), 'a.tar.gz'));
    const two = await buildSageMakerArtifact(dir, join(tempDir(), 'b.tar.gz'), { instanceCount: 2 });
    expect(one.sha256).not.toBe(two.sha256);
  });

  test('holds exactly <name>/config.pbtxt, <name>/warmup/input-0, then <name>/1/model.onnx, with fixed metadata', async () => {
    // GIVEN the mnist-mlp package and its repository
    const repo = await writeTritonRepository(MNIST, tempDir());
    // WHEN its artifact is built
    const artifact = await buildSageMakerArtifact(MNIST, join(tempDir(), 'model.tar.gz'));
    const entries = await readTar(artifact.file);
    // THEN it holds the three files, in this order, with the repository's bytes
    const names = ['mnist-mlp/config.pbtxt', 'mnist-mlp/warmup/input-0', 'mnist-mlp/1/model.onnx'];
    expect(artifact.entries).toEqual(names);
    expect(entries.map((e) => e.header.name)).toEqual(names);
    expect(entries[0].data.toString('utf8')).toBe(readFileSync(repo.configPath, 'utf8'));
    expect(entries[1].data.equals(readFileSync(repo.warmupFiles[0]))).toBe(true);
    expect(entries[2].data.equals(readFileSync(repo.modelPath))).toBe(true);
    // AND every header is a plain file owned by 0:0 with no names, mode 0644 and mtime 0
    for (const { header } of entries) {
      expect(header).toEqual(
        expect.objectContaining({
          type: 'file',
          mode: 0o644,
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
          mtime: new Date(0),
          linkname: null,
        }),
      );
    }
  });

  test('the gzip header carries no file name, mtime 0 and a fixed OS byte', async () => {
    const artifact = await buildSageMakerArtifact(MNIST, join(tempDir(), 'model.tar.gz'));
    const head = readFileSync(artifact.file).subarray(0, 10);
    expect(head[0]).toBe(0x1f);
    expect(head[1]).toBe(0x8b);
    expect(head[2]).toBe(8); // deflate
    expect(head[3]).toBe(0); // FLG: no FNAME, FCOMMENT, FEXTRA or FHCRC
    expect(head.readUInt32LE(4)).toBe(0); // MTIME
    expect(head[9]).toBe(0xff); // OS: unknown
  });

  test('GNU tar lists the same three entries, as root with mtime 1970', async () => {
    const artifact = await buildSageMakerArtifact(MNIST, join(tempDir(), 'model.tar.gz'));
    const listing = execFileSync('tar', ['--numeric-owner', '-tzvf', artifact.file], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    const lines = listing.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 mnist-mlp\/config\.pbtxt$/);
    // One row of the first golden sample: 784 float32s.
    expect(lines[1]).toMatch(/^-rw-r--r-- 0\/0 +3136 1970-01-01 00:00 mnist-mlp\/warmup\/input-0$/);
    expect(lines[2]).toMatch(/^-rw-r--r-- 0\/0 +318610 1970-01-01 00:00 mnist-mlp\/1\/model\.onnx$/);
  });

  test('a tampered package is refused and leaves no file behind', async () => {
    // GIVEN a package whose model was changed after packaging, same size
    const { dir } = await makeTinyMlpPackage();
    const model = readFileSync(join(dir, 'model.onnx'));
    model[model.length - 5] ^= 0x01;
    writeFileSync(join(dir, 'model.onnx'), model);
    const out = tempDir();
    // WHEN its artifact is built
    const building = buildSageMakerArtifact(dir, join(out, 'model.tar.gz'));
    // THEN it is refused for its sha256, and neither the artifact nor a partial file is left
    await expect(building).rejects.toThrow(PackageError);
    await expect(building).rejects.toThrow(/sha256/);
    expect(existsSync(join(out, 'model.tar.gz'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });
});
