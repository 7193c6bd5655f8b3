/**
 * 200 seeded mutations of real Keras files (flipped bytes, truncations, zeroed and repeated ranges).
 * Each is read, rebuilt and converted as `modelship convert` does, and must end in a ConversionError
 * or a correct conversion (ONNX answering as the tfjs twin of what was read), each within a time
 * limit: never a crash of another kind, never a hang. The work runs in a child process
 * (helpers/keras-fuzz-worker.js) so that a synchronous hang is caught by the watchdog below.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SeededRandom } from '../../lib/package/seeded-random';

const ROOT = join(__dirname, '..', 'fixtures', 'keras');
const SOURCES = ['mlp/model.keras', 'mlp/model.h5', 'two-inputs/model.keras', 'bidirectional/model.h5', 'cnn-batchnorm/model.keras'];
const MUTATIONS_PER_SOURCE = 40;
const PER_FILE_LIMIT_MS = 10_000;

interface Outcome {
  path: string;
  kind: 'converted' | 'refused' | 'crash';
  stage?: 'read' | 'twin' | 'convert' | 'check';
  message?: string;
  maxAbsDiff?: number;
}

function mutate(bytes: Buffer, rng: SeededRandom): Buffer {
  const out = Buffer.from(bytes);
  const at = Math.floor(rng.next() * out.length);
  switch (Math.floor(rng.next() * 4)) {
    case 0: // flip 1-8 random bytes
      for (let i = 0, n = 1 + Math.floor(rng.next() * 8); i < n; i++)
        out[Math.floor(rng.next() * out.length)] ^= 1 + Math.floor(rng.next() * 255);
      return out;
    case 1: // truncate
      return out.subarray(0, at);
    case 2: // zero a range
      out.fill(0, at, Math.min(out.length, at + 1 + Math.floor(rng.next() * 256)));
      return out;
    default: {
      // repeat a range in place
      const len = 1 + Math.floor(rng.next() * 512);
      return Buffer.concat([out.subarray(0, at), out.subarray(at, at + len), out.subarray(at)]);
    }
  }
}

test('200 mutations of Keras files end in a clean error or a correct conversion, none hangs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-keras-fuzz-'));
  try {
    const rng = new SeededRandom(20261201);
    const paths: string[] = [];
    for (const source of SOURCES) {
      const bytes = readFileSync(join(ROOT, source));
      for (let i = 0; i < MUTATIONS_PER_SOURCE; i++) {
        const path = join(dir, `${source.replace('/', '-')}.${i}`);
        writeFileSync(path, mutate(bytes, rng));
        paths.push(path);
      }
    }
    expect(paths).toHaveLength(200);

    const worker = spawn(process.execPath, [join(__dirname, 'helpers', 'keras-fuzz-worker.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const outcomes: Outcome[] = [];
    const hung = await new Promise<string | undefined>((resolve) => {
      let watchdog: NodeJS.Timeout | undefined;
      const next = () => {
        clearTimeout(watchdog);
        if (outcomes.length === paths.length) return resolve(undefined);
        const path = paths[outcomes.length];
        watchdog = setTimeout(() => resolve(path), PER_FILE_LIMIT_MS);
        worker.stdin.write(`${path}\n`);
      };
      createInterface({ input: worker.stdout }).on('line', (line) => {
        outcomes.push(JSON.parse(line) as Outcome);
        next();
      });
      next();
    });
    worker.stdin.end();
    worker.kill('SIGKILL');

    expect(hung).toBeUndefined();
    expect(outcomes.filter((o) => o.kind === 'crash')).toEqual([]);
    expect(outcomes).toHaveLength(200);
    // Every refusal names the file as given, or the layer the converter refused: a message a user can act on.
    for (const o of outcomes.filter((x) => x.kind === 'refused')) expect(o.message).toMatch(o.stage === 'convert' ? /^layer '/ : /^mutant/);
    // The mutations must mostly break the files, or the test proves nothing about errors.
    expect(outcomes.filter((o) => o.kind === 'refused').length).toBeGreaterThan(100);
    // A file that was read is converted correctly: a disagreement between ONNX and the twin is a converter bug, never a clean error.
    expect(outcomes.filter((o) => o.stage === 'check')).toEqual([]);
    const converted = outcomes.filter((o) => o.kind === 'converted');
    expect(converted.length).toBeGreaterThan(0);
    for (const o of converted) expect(o.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
