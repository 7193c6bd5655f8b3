/**
 * Every expected failure of the CLI, as a user meets it: the built CLI (`node dist/bin/modelship.js`, built
 * by jest's global setup) in a child process. Each prints one `modelship: <message>` line, no stack, and
 * exits 1, or 2 when the command line itself cannot work. `--debug` is what brings the stack back.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/fixtures';
import { isolatedCliEnv } from '../helpers/cli-env';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'modelship.js');
const MNIST = join(ROOT, 'models', 'mnist-mlp');
const execFileP = promisify(execFile);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: string;

async function modelship(args: readonly string[]): Promise<Outcome> {
  // No AWS profile or instance metadata: the registry commands must fail on the URI, not on credentials.
  const env = isolatedCliEnv(dir);
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [CLI, ...args], { cwd: dir, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Lines that look like a stack frame: "    at fn (file:line:col)". */
const STACK_FRAME = /^\s+at /m;

/** Exit `code`, and exactly one `modelship:` line on stderr, matching `message`, with no stack after it. */
function expectOneLine(r: Outcome, code: number, message: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('modelship:'));
  expect({ code: r.code, lines }).toEqual({ code, lines: [expect.stringMatching(message)] });
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stdout).toBe('');
}

beforeAll(() => {
  dir = tempDir('modelship-cli-errors-');
});

describe('convert', () => {
  test('GIVEN a model.json that does not exist WHEN converted THEN one line naming it, exit 1', async () => {
    const r = await modelship(['convert', 'nope.json', '--out', 'x.onnx']);
    expectOneLine(r, 1, /^modelship: cannot read nope\.json: ENOENT/);
  });

  test('GIVEN a file that is no model format WHEN converted THEN one line naming it and what it is not, exit 1', async () => {
    writeFileSync(join(dir, 'not-json.json'), 'this is not JSON');
    const r = await modelship(['convert', 'not-json.json', '--out', 'x.onnx']);
    expectOneLine(r, 1, /^modelship: not-json\.json is neither a \.keras zip, an HDF5 file, nor a tfjs model\.json/);
  });

  test('GIVEN a model.json that starts as JSON but is malformed WHEN converted THEN one line naming it, exit 1', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"modelTopology": ');
    const r = await modelship(['convert', 'broken.json', '--out', 'x.onnx']);
    expectOneLine(r, 1, /^modelship: cannot read tfjs model broken\.json: .*JSON/);
  });
});

describe('serve', () => {
  let holder: Server;
  let port: number;

  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  test('GIVEN a port another process holds WHEN served on it THEN one line naming the port and --port, exit 1', async () => {
    const r = await modelship(['serve', MNIST, '--port', String(port)]);
    expectOneLine(
      r,
      1,
      new RegExp(
        `^modelship: port ${port} on 127\\.0\\.0\\.1 is already in use; stop the other server or choose another port with --port$`,
      ),
    );
  });

  test('GIVEN the busy port and --debug WHEN served THEN the same message with its stack', async () => {
    const r = await modelship(['--debug', 'serve', MNIST, '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^modelship: ServerStartError: port ${port} on 127\\.0\\.0\\.1 is already in use`));
    expect(r.stderr).toMatch(STACK_FRAME);
  });

  test('GIVEN a --config that is not JSON WHEN served THEN one line naming the file, exit 1', async () => {
    writeFileSync(join(dir, 'broken.json'), '{ "plans": ');
    const r = await modelship(['serve', MNIST, '--port', '0', '--config', 'broken.json']);
    expectOneLine(r, 1, /^modelship: broken\.json is not valid JSON: /);
  });

  test('GIVEN a --config that breaks the schema WHEN served THEN one line naming the file, then each bad field, exit 1', async () => {
    writeFileSync(
      join(dir, 'bad-schema.json'),
      JSON.stringify({ plans: { p: { rateLimit: -1, burstLimit: 1 } }, apiKeys: [{ name: 'k', value: 'k'.repeat(20), plan: 'gold' }] }),
    );
    const r = await modelship(['serve', MNIST, '--port', '0', '--config', 'bad-schema.json']);
    expectOneLine(r, 1, /^modelship: bad-schema\.json is not a valid server config:$/);
    expect(r.stderr).toContain('\n  - plans.p.rateLimit: ');
    expect(r.stderr).toContain('\n  - apiKeys[0].plan: unknown plan "gold" (plans: p)');
  });
});

describe('registry URIs', () => {
  test.each([
    ['an http URL', 'http://x', /^modelship: registry "http:\/\/x" is not an S3 URI; expected s3:\/\/bucket or s3:\/\/bucket\/prefix$/],
    ['s3:// with no bucket', 's3://', /^modelship: registry "s3:\/\/": "" is not a valid S3 bucket name/],
  ])('GIVEN %s as --registry WHEN listed THEN one line naming the URI, exit 1', async (_what, uri, message) => {
    const r = await modelship(['list', '--registry', uri]);
    expectOneLine(r, 1, message);
  });
});

describe('usage errors', () => {
  test.each([
    ['a missing required option', ['convert', 'model.json'], /^modelship: required option '--out <file>' not specified$/],
    [
      'an option value that is not a number',
      ['serve', MNIST, '--port', 'eighty'],
      /^modelship: option '--port <port>' argument 'eighty' is invalid/,
    ],
    ['an unknown command', ['deploy'], /^modelship: unknown command 'deploy'/],
  ])('GIVEN %s WHEN run THEN one line, exit 2', async (_what, args, message) => {
    const r = await modelship(args);
    expectOneLine(r, 2, message);
  });
});
