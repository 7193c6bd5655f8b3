/**
 * A start that cannot bind: startServer rejects with a ServerStartError that names the address and what
 * to change (the CLI prints it as one line, test/cli/errors.test.ts), and keeps the bind error as cause.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { ServerStartError } from '../../lib/errors';
import { startServer } from '../../lib/local/serve';
import type { ServerConfig } from '../../lib/local/config';
import { makeTinyMlpPackage, type FixturePackage } from '../helpers/fixtures';

const CONFIG: ServerConfig = {
  plans: { p: { rateLimit: 1, burstLimit: 1 } },
  apiKeys: [{ name: 'k', value: 'server-start-key-0123456789abc', plan: 'p', enabled: true }],
  maxBodyBytes: 1024,
};

let pkg: FixturePackage;
let holder: Server;
let port: number;

beforeAll(async () => {
  pkg = await makeTinyMlpPackage();
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  port = (holder.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

async function failedStart(port: number, host?: string): Promise<ServerStartError> {
  const outcome = await startServer({ dirs: [pkg.dir], port, host, config: CONFIG }).then(
    async (running) => {
      await running.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(ServerStartError);
  return outcome as ServerStartError;
}

test('GIVEN a port another server holds WHEN started on it THEN ServerStartError naming the port and --port, caused by EADDRINUSE', async () => {
  const err = await failedStart(port);
  expect(err.message).toBe(`port ${port} on 127.0.0.1 is already in use; stop the other server or choose another port with --port`);
  expect(err.kind).toBe('server');
  expect((err.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
});

test('GIVEN a host that is not an address of this machine WHEN started THEN ServerStartError naming it and --host', async () => {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
  const err = await failedStart(0, '192.0.2.1');
  expect(err.message).toBe('192.0.2.1 is not an address of this machine; choose another with --host');
  expect((err.cause as NodeJS.ErrnoException).code).toBe('EADDRNOTAVAIL');
});
