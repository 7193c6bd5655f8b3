/**
 * The README's curl examples are run as printed (only the port changes), against the committed example
 * package, so the quickstart cannot drift from what the server does.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../lib/local/serve';

const ROOT = join(__dirname, '..');
const KEY = 'readme-test-key-0123456789abcdef';

interface Example {
  readonly command: string;
  /** The `# ...` line printed under the command, when the README shows the answer. */
  readonly expected?: string;
}

/** curl commands in the ```sh blocks of one section, with backslash continuations joined. */
export function readmeExamples(markdown: string, heading: string): Example[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end === -1 ? undefined : end);
  const examples: Example[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1].replace(/\\\n\s*/g, '').split('\n');
    lines.forEach((line, i) => {
      if (!line.startsWith('curl ')) return;
      const next = lines[i + 1];
      examples.push({ command: line, expected: next?.startsWith('# ') ? next.slice(2) : undefined });
    });
  }
  return examples;
}

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({
    dirs: [join(ROOT, 'models', 'mnist-mlp')],
    port: 0,
    config: {
      plans: { p: { rateLimit: 1000, burstLimit: 1000 } },
      apiKeys: [{ name: 'readme', value: KEY, plan: 'p', enabled: true }],
      maxBodyBytes: 10485760,
    },
  });
});
afterAll(() => running.close());

test("every curl example in the README's local section works as printed", async () => {
  // The deploy section's examples need a deployed stack; these run against the local server.
  const examples = readmeExamples(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'Calling the model');
  expect(examples.length).toBeGreaterThanOrEqual(6);
  const hostPort = running.url.replace('http://', '');
  for (const example of examples) {
    const command = example.command.replaceAll('127.0.0.1:8080', hostPort);
    // Asynchronous: the server runs in this process, and a blocking call would leave it unable to answer.
    const { stdout: out } = await promisify(execFile)('bash', ['-c', `${command} -w '\\n%{http_code}'`], {
      cwd: ROOT,
      env: { ...process.env, KEY },
      encoding: 'utf8',
    });
    const status = Number(out.slice(out.lastIndexOf('\n') + 1));
    const body = out.slice(0, out.lastIndexOf('\n'));
    if (example.expected !== undefined) {
      expect({ command: example.command, body }).toEqual({ command: example.command, body: example.expected });
    } else {
      expect({ command: example.command, status }).toEqual({ command: example.command, status: 200 });
      expect(() => JSON.parse(body) as unknown).not.toThrow();
    }
  }
});
