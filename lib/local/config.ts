/**
 * The `modelship serve --config FILE` configuration: usage plans, API keys, JWT settings, SigV4 access keys
 * and the payload limits.
 * The names and bounds follow API Gateway (usage plans, API keys, payload limit) so that a config tried
 * locally means the same thing when deployed.
 */
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ModelshipError } from '../errors';
import { DEFAULT_STAGE_THROTTLE } from '../stage-throttle';
import { readEnv, type Env } from '../util/env';
import { readJsonFile } from '../util/read-json-file';

/** API Gateway's request payload limit, 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway rejects API key values shorter than this. */
export const MIN_API_KEY_LENGTH = 20;
/** API Gateway rejects API key values longer than this. */
export const MAX_API_KEY_LENGTH = 128;

/** A config file that cannot be read or does not match the schema. Not an HTTP error: it stops a start. */
export class ConfigError extends ModelshipError {
  readonly kind = 'config';
}

/** Names that are safe in logs and cannot be mistaken for a principal id prefix such as `jwt:`. */
const NAME = /^[A-Za-z0-9._-]{1,128}$/;
const NAME_MESSAGE = 'must be 1-128 letters, digits, ".", "_" or "-"';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const quotaSchema = z
  .strictObject({
    /** Requests allowed per period. */
    limit: z.number().int().min(1),
    /** Periods are UTC: DAY starts at 00:00, WEEK on Monday 00:00, MONTH on the 1st at 00:00. */
    period: z.enum(['DAY', 'WEEK', 'MONTH']),
    /**
     * Days added to the period's start: WEEK 0-6 (0 = Monday, 6 = Sunday), MONTH 0-27 (0 = the 1st, so
     * every month has the day), DAY only 0. AWS documents QuotaSettings.offset both as "the day a period
     * starts" and as "requests subtracted in the first period"; this follows the first reading.
     */
    offset: z.number().int().min(0).default(0),
  })
  .superRefine((q, ctx) => {
    const max = q.period === 'DAY' ? 0 : q.period === 'WEEK' ? 6 : 27;
    if (q.offset > max) {
      ctx.addIssue({ code: 'custom', path: ['offset'], message: `must be between 0 and ${max} for a ${q.period} quota` });
    }
  });

export const planSchema = z.strictObject({
  /** Steady-state requests per second: the token bucket's refill rate. */
  rateLimit: z.number().positive(),
  /** The token bucket's size: how many requests may arrive at once. */
  burstLimit: z.number().int().min(1),
  quota: quotaSchema.optional(),
});

const apiKeyEntrySchema = z
  .strictObject({
    /** Shown in logs and used as the principal id; the value never is. */
    name: z.string().regex(NAME, NAME_MESSAGE),
    value: z.string().min(MIN_API_KEY_LENGTH).max(MAX_API_KEY_LENGTH).optional(),
    /** Name of an environment variable holding the value, so that the secret stays out of the file. */
    valueFromEnv: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
    plan: z.string(),
    enabled: z.boolean().default(true),
  })
  .superRefine((k, ctx) => {
    if ((k.value === undefined) === (k.valueFromEnv === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of "value" and "valueFromEnv"' });
    }
  });

export const jwtSchema = z
  .strictObject({
    /** Expected `iss` claim. */
    issuer: z.string().min(1),
    /** Expected `aud` claim; a token passes when it names any of them. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Path of a JWKS JSON file; relative paths are resolved against the config file's directory. */
    jwksFile: z.string().min(1).optional(),
    /** http(s) URL of a JWKS, fetched and cached. */
    jwksUrl: z
      .string()
      .url()
      .regex(/^https?:\/\//i, 'must be an http or https URL')
      .optional(),
    /** Usage plan applied to each JWT subject; without it JWT callers are not rate limited. */
    plan: z.string().optional(),
    /** Leeway for exp, nbf and iat, for clocks that drift. */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(0),
  })
  .superRefine((j, ctx) => {
    if ((j.jwksFile === undefined) === (j.jwksUrl === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of "jwksFile" and "jwksUrl"' });
    }
  });

/** AWS access key ids: upper-case letters and digits (AKIA..., ASIA...); the bounds are IAM's. */
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

const sigv4CredentialSchema = z
  .strictObject({
    /** The access key id callers sign with; shown in logs and used as the principal id (`sigv4:<id>`). */
    accessKeyId: z.string().regex(ACCESS_KEY_ID, 'must be 16-128 upper-case letters and digits, like an AWS access key id'),
    secretAccessKey: z.string().min(16).max(128).optional(),
    /** Name of an environment variable holding the secret, so that it stays out of the file. */
    secretAccessKeyFromEnv: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
    plan: z.string(),
    enabled: z.boolean().default(true),
  })
  .superRefine((k, ctx) => {
    if ((k.secretAccessKey === undefined) === (k.secretAccessKeyFromEnv === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of "secretAccessKey" and "secretAccessKeyFromEnv"' });
    }
  });

/** IAM (SigV4) auth as API Gateway checks it for `execute-api`, with access keys configured here instead of IAM. */
export const sigv4Schema = z.strictObject({
  /** The region requests must be signed for, as in the credential scope: eu-west-1. */
  region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be an AWS region name such as eu-west-1'),
  /** The service requests must be signed for. */
  service: z.literal('execute-api').default('execute-api'),
  /** How far x-amz-date may be from the server's clock; AWS allows 5 minutes. */
  clockSkewSeconds: z.number().int().min(0).max(900).default(300),
  credentials: z.array(sigv4CredentialSchema).min(1),
});

export const serverConfigSchema = z
  .strictObject({
    plans: z.record(z.string().regex(NAME, NAME_MESSAGE), planSchema),
    apiKeys: z.array(apiKeyEntrySchema).default([]),
    jwt: jwtSchema.optional(),
    sigv4: sigv4Schema.optional(),
    /** Larger bodies get 413 before they are read to the end. */
    maxBodyBytes: z.number().int().min(1).default(DEFAULT_MAX_BODY_BYTES),
    /** Hold cpu packages' model routes to Lambda's payload limits too, as deployed. */
    lambdaPayloadLimits: z.boolean().default(true),
    /** The stage-wide throttle over all callers together, as API Gateway's stage default always is. */
    throttle: z
      .strictObject({ rateLimit: z.number().positive(), burstLimit: z.number().int().min(1) })
      .default({ ...DEFAULT_STAGE_THROTTLE }),
  })
  .superRefine((c, ctx) => {
    const planNames = Object.keys(c.plans);
    const known = planNames.length ? planNames.join(', ') : 'none defined';
    const names = new Set<string>();
    c.apiKeys.forEach((key, i) => {
      if (!Object.hasOwn(c.plans, key.plan)) {
        ctx.addIssue({ code: 'custom', path: ['apiKeys', i, 'plan'], message: `unknown plan "${key.plan}" (plans: ${known})` });
      }
      if (names.has(key.name)) {
        ctx.addIssue({ code: 'custom', path: ['apiKeys', i, 'name'], message: `"${key.name}" is used by another key` });
      }
      names.add(key.name);
    });
    if (c.jwt?.plan !== undefined && !Object.hasOwn(c.plans, c.jwt.plan)) {
      ctx.addIssue({ code: 'custom', path: ['jwt', 'plan'], message: `unknown plan "${c.jwt.plan}" (plans: ${known})` });
    }
    const accessKeyIds = new Set<string>();
    c.sigv4?.credentials.forEach((cred, i) => {
      if (!Object.hasOwn(c.plans, cred.plan)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sigv4', 'credentials', i, 'plan'],
          message: `unknown plan "${cred.plan}" (plans: ${known})`,
        });
      }
      if (accessKeyIds.has(cred.accessKeyId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sigv4', 'credentials', i, 'accessKeyId'],
          message: `"${cred.accessKeyId}" is used by another credential`,
        });
      }
      accessKeyIds.add(cred.accessKeyId);
    });
    if (c.apiKeys.length === 0 && c.jwt === undefined && c.sigv4 === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKeys'],
        message: 'no API keys and no jwt section (nor sigv4): nobody could call the server',
      });
    }
  });

/** The config as written in the file (before environment variables are read). */
export type ServerConfigFile = z.input<typeof serverConfigSchema>;
/** One usage plan. */
export type UsagePlan = z.infer<typeof planSchema>;
/** A usage plan's quota. */
export type QuotaSettings = z.infer<typeof quotaSchema>;
/** JWT settings, defaults applied. */
export type JwtConfig = z.infer<typeof jwtSchema>;

/** A SigV4 access key with its secret resolved from `secretAccessKey` or `secretAccessKeyFromEnv`. */
export interface SigV4CredentialConfig {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly plan: string;
  readonly enabled: boolean;
}

/** SigV4 settings, defaults applied and secrets resolved. */
export interface SigV4Config {
  readonly region: string;
  readonly service: string;
  readonly clockSkewSeconds: number;
  readonly credentials: readonly SigV4CredentialConfig[];
}

/** An API key with its secret resolved from `value` or `valueFromEnv`. */
export interface ApiKeyConfig {
  readonly name: string;
  readonly value: string;
  readonly plan: string;
  readonly enabled: boolean;
}

/**
 * A checked config with defaults applied and every API key's value resolved, so nothing downstream
 * reads the environment. This is what the server and `createAuthenticator` (auth.ts) take.
 */
export interface ServerConfig {
  readonly plans: Readonly<Record<string, UsagePlan>>;
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly jwt?: JwtConfig;
  /** IAM (SigV4) access keys. @default - SigV4 is not accepted */
  readonly sigv4?: SigV4Config;
  readonly maxBodyBytes: number;
  /**
   * Whether a cpu package's model routes are also held to Lambda's 6 MiB invoke payload limits, on the
   * request as its event would carry it and on the answer as its result would, as they are deployed
   * (README.md, "Payload limits"). @default true
   */
  readonly lambdaPayloadLimits?: boolean;
  /** The stage-wide throttle, over every caller together. @default DEFAULT_STAGE_THROTTLE (lib/stage-throttle.ts) */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(root)';
}

/**
 * Checks a parsed config object: schema, cross-field references, environment-held key values.
 * Throws a {@link ConfigError} that names `source` and lists every bad field with its path.
 * @param source what to call the config in messages (usually its file path)
 * @param env where `valueFromEnv` is looked up
 * @param baseDir directory a relative `jwt.jwksFile` is resolved against; left relative when omitted
 */
export function parseServerConfig(value: unknown, source = 'server config', env: Env = process.env, baseDir?: string): ServerConfig {
  const result = serverConfigSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    throw new ConfigError(`${source} is not a valid server config:\n  - ${problems.join('\n  - ')}`);
  }
  const c = result.data;
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const apiKeys = c.apiKeys.map((k, i): ApiKeyConfig => {
    let secret = k.value;
    if (k.valueFromEnv !== undefined) {
      secret = readEnv(env, k.valueFromEnv);
      if (secret === undefined) {
        problems.push(`apiKeys[${i}].valueFromEnv: environment variable ${k.valueFromEnv} is not set`);
      } else if (secret.length < MIN_API_KEY_LENGTH || secret.length > MAX_API_KEY_LENGTH) {
        problems.push(
          `apiKeys[${i}].valueFromEnv: ${k.valueFromEnv} holds ${secret.length} characters; ` +
            `API keys must have ${MIN_API_KEY_LENGTH}-${MAX_API_KEY_LENGTH}`,
        );
      }
    }
    const resolvedSecret = secret ?? '';
    const other = seen.get(resolvedSecret);
    // API Gateway refuses two keys with one value; locally it would make the principal ambiguous.
    if (resolvedSecret && other !== undefined) problems.push(`apiKeys[${i}]: has the same value as key "${other}"`);
    seen.set(resolvedSecret, k.name);
    return { name: k.name, value: resolvedSecret, plan: k.plan, enabled: k.enabled };
  });
  const sigv4Credentials = c.sigv4?.credentials.map((k, i): SigV4CredentialConfig => {
    let secret = k.secretAccessKey;
    if (k.secretAccessKeyFromEnv !== undefined) {
      secret = readEnv(env, k.secretAccessKeyFromEnv);
      if (secret === undefined) {
        problems.push(`sigv4.credentials[${i}].secretAccessKeyFromEnv: environment variable ${k.secretAccessKeyFromEnv} is not set`);
      } else if (secret.length < 16 || secret.length > 128) {
        problems.push(
          `sigv4.credentials[${i}].secretAccessKeyFromEnv: ${k.secretAccessKeyFromEnv} holds ${secret.length} characters; secrets must have 16-128`,
        );
      }
    }
    return { accessKeyId: k.accessKeyId, secretAccessKey: secret ?? '', plan: k.plan, enabled: k.enabled };
  });
  if (problems.length) {
    throw new ConfigError(`${source} is not a valid server config:\n  - ${problems.join('\n  - ')}`);
  }
  const sigv4 = c.sigv4 && sigv4Credentials ? { ...c.sigv4, credentials: sigv4Credentials } : undefined;
  let jwt = c.jwt;
  if (jwt?.jwksFile !== undefined && baseDir !== undefined && !isAbsolute(jwt.jwksFile)) {
    jwt = { ...jwt, jwksFile: resolve(baseDir, jwt.jwksFile) };
  }
  return {
    plans: c.plans,
    apiKeys,
    ...(jwt ? { jwt } : {}),
    ...(sigv4 ? { sigv4 } : {}),
    maxBodyBytes: c.maxBodyBytes,
    lambdaPayloadLimits: c.lambdaPayloadLimits,
    throttle: c.throttle,
  };
}

/**
 * Reads and checks a JSON config file. A relative `jwt.jwksFile` is resolved against the file's directory.
 * Throws a {@link ConfigError} naming the file and each bad field.
 */
export function loadServerConfig(path: string, env: Env = process.env): ServerConfig {
  return parseServerConfig(
    readJsonFile(path, (m) => new ConfigError(m)),
    path,
    env,
    dirname(resolve(path)),
  );
}

/** Name of the plan and key {@link defaultDevConfig} creates. */
export const DEV_PLAN = 'dev';

/**
 * The dev key's plan: half of DEFAULT_STAGE_THROTTLE (lib/stage-throttle.ts), as a deployed plan sits
 * under its stage's throttle. Below it rather than equal, a lone dev caller is stopped by its own plan,
 * and the 429 names that plan rather than the stage.
 */
const DEV_PLAN_LIMITS = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * A config for `modelship serve` without `--config`: one API key with a fresh random value
 * (32 random bytes, base64url: 43 characters) on {@link DEV_PLAN_LIMITS}, under the default stage
 * throttle, so local calls still exercise auth and limits as deployed. The caller prints the key once;
 * it is never written anywhere.
 */
export function defaultDevConfig(): ServerConfig {
  return {
    plans: { [DEV_PLAN]: { ...DEV_PLAN_LIMITS } },
    apiKeys: [{ name: DEV_PLAN, value: randomBytes(32).toString('base64url'), plan: DEV_PLAN, enabled: true }],
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    lambdaPayloadLimits: true,
    throttle: { ...DEFAULT_STAGE_THROTTLE },
  };
}
