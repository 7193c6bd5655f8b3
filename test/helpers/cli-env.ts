import { join } from 'node:path';

/**
 * The environment a test runs the real CLI in: PATH, a HOME of the test's own, and no AWS config,
 * shared credentials or instance metadata, so a command reaches only what the test gives it.
 */
export function isolatedCliEnv(home: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}
