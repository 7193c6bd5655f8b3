import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DEFAULT_MAX_BODY_BYTES,
  defaultDevConfig,
  loadServerConfig,
  parseServerConfig,
  type ServerConfigFile,
} from '../../lib/local/config';

const KEY_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'; // 30 characters
const KEY_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

function validFile(): ServerConfigFile {
  return {
    plans: {
      basic: { rateLimit: 10, burstLimit: 20, quota: { limit: 1000, period: 'DAY' } },
      pro: { rateLimit: 100.5, burstLimit: 200 },
    },
    apiKeys: [
      { name: 'alice', value: KEY_A, plan: 'basic' },
      { name: 'bob', valueFromEnv: 'BOB_KEY', plan: 'pro', enabled: false },
    ],
    jwt: { issuer: 'https://issuer.example', audience: ['modelship', 'other'], jwksFile: 'jwks.json', plan: 'pro' },
  };
}

/** Parses `file` and returns the ConfigError's message; fails the test when parsing succeeds. */
function problemsOf(file: unknown, env: Record<string, string> = { BOB_KEY: KEY_B }): string {
  try {
    parseServerConfig(file, 'cfg.json', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadServerConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelship-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('GIVEN a valid file WHEN loaded THEN defaults are applied, env values resolved and jwksFile made absolute', () => {
    const path = join(dir, 'serve.json');
    writeFileSync(path, JSON.stringify(validFile()));

    const config = loadServerConfig(path, { BOB_KEY: KEY_B });

    expect(config.plans).toEqual({
      basic: { rateLimit: 10, burstLimit: 20, quota: { limit: 1000, period: 'DAY', offset: 0 } },
      pro: { rateLimit: 100.5, burstLimit: 200 },
    });
    expect(config.apiKeys).toEqual([
      { name: 'alice', value: KEY_A, plan: 'basic', enabled: true },
      { name: 'bob', value: KEY_B, plan: 'pro', enabled: false },
    ]);
    expect(config.jwt).toEqual({
      issuer: 'https://issuer.example',
      audience: ['modelship', 'other'],
      jwksFile: join(dir, 'jwks.json'),
      plan: 'pro',
      clockToleranceSeconds: 0,
    });
    expect(config.maxBodyBytes).toBe(10 * 1024 * 1024);
    expect(DEFAULT_MAX_BODY_BYTES).toBe(10_485_760);
  });

  test('GIVEN a file that is not JSON WHEN loaded THEN the error names the file', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ plans: ');
    expect(() => loadServerConfig(path)).toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
  });

  test('GIVEN a missing file WHEN loaded THEN the error names the file', () => {
    const path = join(dir, 'absent.json');
    expect(() => loadServerConfig(path)).toThrow(ConfigError);
    expect(() => loadServerConfig(path)).toThrow(`${path} cannot be read`);
  });

  test('GIVEN a file with a bad field WHEN loaded THEN the error names the file and the field', () => {
    const path = join(dir, 'bad.json');
    const file = validFile();
    file.maxBodyBytes = -1;
    writeFileSync(path, JSON.stringify(file));
    expect(() => loadServerConfig(path, { BOB_KEY: KEY_B })).toThrow(`${path} is not a valid server config:\n  - maxBodyBytes:`);
  });
});

describe('parseServerConfig cross-field checks', () => {
  test('GIVEN a key whose plan does not exist WHEN parsed THEN the error names apiKeys[i].plan and the known plans', () => {
    const file = validFile();
    file.apiKeys![1].plan = 'gold';
    expect(problemsOf(file)).toContain('apiKeys[1].plan: unknown plan "gold" (plans: basic, pro)');
  });

  test('GIVEN jwt.plan that does not exist WHEN parsed THEN the error names jwt.plan', () => {
    const file = validFile();
    file.jwt!.plan = 'gold';
    expect(problemsOf(file)).toContain('jwt.plan: unknown plan "gold" (plans: basic, pro)');
  });

  test('GIVEN both jwksFile and jwksUrl WHEN parsed THEN the error names jwt', () => {
    const file = validFile();
    file.jwt!.jwksUrl = 'https://issuer.example/jwks.json';
    expect(problemsOf(file)).toContain('jwt: give exactly one of "jwksFile" and "jwksUrl"');
  });

  test('GIVEN neither jwksFile nor jwksUrl WHEN parsed THEN the error names jwt', () => {
    const file = validFile();
    delete file.jwt!.jwksFile;
    expect(problemsOf(file)).toContain('jwt: give exactly one of "jwksFile" and "jwksUrl"');
  });

  test('GIVEN a key with both value and valueFromEnv WHEN parsed THEN the error names the key', () => {
    const file = validFile();
    file.apiKeys![0].valueFromEnv = 'X';
    expect(problemsOf(file)).toContain('apiKeys[0]: give exactly one of "value" and "valueFromEnv"');
  });

  test('GIVEN a key with neither value nor valueFromEnv WHEN parsed THEN the error names the key', () => {
    const file = validFile();
    delete file.apiKeys![0].value;
    expect(problemsOf(file)).toContain('apiKeys[0]: give exactly one of "value" and "valueFromEnv"');
  });

  test('GIVEN valueFromEnv naming an unset variable WHEN parsed THEN the error names the field and the variable', () => {
    expect(problemsOf(validFile(), {})).toContain('apiKeys[1].valueFromEnv: environment variable BOB_KEY is not set');
  });

  test('GIVEN valueFromEnv naming a variable set to the empty string WHEN parsed THEN it counts as unset', () => {
    expect(problemsOf(validFile(), { BOB_KEY: '' })).toContain('apiKeys[1].valueFromEnv: environment variable BOB_KEY is not set');
  });

  test('GIVEN an env-held key shorter than 20 characters WHEN parsed THEN the error gives its length', () => {
    expect(problemsOf(validFile(), { BOB_KEY: 'x'.repeat(19) })).toContain(
      'apiKeys[1].valueFromEnv: BOB_KEY holds 19 characters; API keys must have 20-128',
    );
  });

  test('GIVEN an inline key of 19 characters WHEN parsed THEN apiKeys[0].value is rejected; 20 passes', () => {
    const file = validFile();
    file.apiKeys![0].value = 'k'.repeat(19);
    expect(problemsOf(file)).toMatch(/apiKeys\[0\]\.value: .*20/);
    file.apiKeys![0].value = 'k'.repeat(20);
    expect(parseServerConfig(file, 'cfg.json', { BOB_KEY: KEY_B }).apiKeys[0].value).toHaveLength(20);
  });

  test('GIVEN two keys with the same name WHEN parsed THEN the second is named', () => {
    const file = validFile();
    file.apiKeys![1].name = 'alice';
    expect(problemsOf(file)).toContain('apiKeys[1].name: "alice" is used by another key');
  });

  test('GIVEN two keys with the same value WHEN parsed THEN the second is named without echoing the value', () => {
    const message = problemsOf(validFile(), { BOB_KEY: KEY_A });
    expect(message).toContain('apiKeys[1]: has the same value as key "alice"');
    expect(message).not.toContain(KEY_A);
  });

  test('GIVEN several bad fields WHEN parsed THEN every one is listed', () => {
    const file = validFile();
    file.plans.basic.burstLimit = 0;
    file.plans.pro.rateLimit = 0;
    file.apiKeys![0].plan = 'gold';
    const message = problemsOf(file);
    expect(message).toContain('plans.basic.burstLimit:');
    expect(message).toContain('plans.pro.rateLimit:');
    expect(message).toContain('apiKeys[0].plan: unknown plan "gold"');
    expect(message.startsWith('cfg.json is not a valid server config:')).toBe(true);
  });

  test('GIVEN an unknown field WHEN parsed THEN it is rejected rather than ignored', () => {
    const file = { ...validFile(), maxBodySize: 5 };
    expect(problemsOf(file)).toMatch(/\(root\): .*maxBodySize/);
  });

  test('GIVEN quota offsets WHEN parsed THEN DAY allows 0 only, WEEK 0-6 and MONTH 0-27', () => {
    const withQuota = (period: 'DAY' | 'WEEK' | 'MONTH', offset: number): ServerConfigFile => {
      const file = validFile();
      file.plans.basic.quota = { limit: 5, period, offset };
      return file;
    };
    const env = { BOB_KEY: KEY_B };
    expect(problemsOf(withQuota('DAY', 1))).toContain('plans.basic.quota.offset: must be between 0 and 0 for a DAY quota');
    expect(parseServerConfig(withQuota('WEEK', 6), 'c', env).plans.basic.quota!.offset).toBe(6);
    expect(problemsOf(withQuota('WEEK', 7))).toContain('plans.basic.quota.offset: must be between 0 and 6 for a WEEK quota');
    expect(parseServerConfig(withQuota('MONTH', 27), 'c', env).plans.basic.quota!.offset).toBe(27);
    expect(problemsOf(withQuota('MONTH', 28))).toContain('plans.basic.quota.offset: must be between 0 and 27 for a MONTH quota');
  });

  test('GIVEN no API keys and no jwt WHEN parsed THEN the config is refused as unusable', () => {
    expect(problemsOf({ plans: { basic: { rateLimit: 1, burstLimit: 1 } } })).toContain('apiKeys: no API keys and no jwt section');
  });

  test('GIVEN a jwksUrl that is not http(s) WHEN parsed THEN jwt.jwksUrl is rejected', () => {
    const file = validFile();
    delete file.jwt!.jwksFile;
    file.jwt!.jwksUrl = 'file:///etc/jwks.json';
    expect(problemsOf(file)).toContain('jwt.jwksUrl:');
  });
});

describe('defaultDevConfig', () => {
  test('GIVEN two dev configs WHEN generated THEN each has one enabled base64url key of 43 characters on an existing plan, and they differ', () => {
    const a = defaultDevConfig();
    const b = defaultDevConfig();

    expect(a.apiKeys).toHaveLength(1);
    const key = a.apiKeys[0];
    expect(key.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.value.length).toBeGreaterThanOrEqual(30);
    expect(key.enabled).toBe(true);
    expect(a.plans[key.plan]).toEqual({ rateLimit: 50, burstLimit: 100 });
    expect(a.maxBodyBytes).toBe(10_485_760);
    expect(b.apiKeys[0].value).not.toBe(key.value);
  });

  test('GIVEN many dev keys WHEN generated THEN they are all distinct and use the whole alphabet (random, not patterned)', () => {
    const values = Array.from({ length: 200 }, () => defaultDevConfig().apiKeys[0].value);
    expect(new Set(values).size).toBe(200);
    const chars = new Set(values.join(''));
    // 200 x 43 random base64url characters miss one of the 64 with probability ~ 64 * e^-134.
    expect(chars.size).toBe(64);
  });

  test('GIVEN a dev config WHEN checked by the schema THEN it is a valid config', () => {
    const dev = defaultDevConfig();
    const reparsed = parseServerConfig(JSON.parse(JSON.stringify(dev)), 'dev', {});
    expect(reparsed).toEqual(dev);
  });
});
