/**
 * `modelship invoke`: one call through ModelClient from the command line, printing the v2 response as
 * JSON on stdout. bin/modelship.ts parses the options and calls {@link runInvoke}.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors';
import { stringifyJson } from '../protocol/json';
import { readEnv } from '../util/env';
import { ModelClient, type ClientAuth } from './model-client';
import { parseRequestBody, tensorToJson } from './tensors';

export interface InvokeOptions {
  /** A URL ending in /v2/models/NAME[/versions/V][/infer], or a model name (with --url). */
  readonly target?: string;
  readonly url?: string;
  readonly model?: string;
  readonly modelVersion?: string;
  /** '@file', '-' (stdin), or the JSON text of a v2 infer request. */
  readonly data?: string;
  readonly apiKey?: string;
  readonly bearer?: string;
  readonly sigv4?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly binary?: boolean;
  readonly metadata?: boolean;
  readonly timeoutMs?: number;
  readonly retries?: number;
}

class UnusableTarget extends UsageError {
  constructor(target: string) {
    super(`${target} has no /v2/models/NAME in its path; give the server's base URL with --model NAME`);
  }
}

interface Target {
  readonly baseUrl: string;
  readonly model: string;
  readonly version?: string;
}

/** Splits https://host/stage/v2/models/NAME[/versions/V][/infer|/ready] into the base URL, model and version. */
export function parseInvokeTarget(
  o: Pick<InvokeOptions, 'target' | 'url' | 'model' | 'modelVersion'>,
  env: NodeJS.ProcessEnv = process.env,
): Target {
  const target = o.target;
  if (target !== undefined && /^https?:\/\//i.test(target)) {
    const url = new URL(target);
    const m = /^(.*?)\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(?:infer|ready))?\/?$/.exec(url.pathname);
    if (m === null) {
      if (o.model === undefined) throw new UnusableTarget(target);
      return { baseUrl: target, model: o.model, version: o.modelVersion };
    }
    url.pathname = m[1] || '/';
    return {
      baseUrl: url.href.replace(/\/$/, ''),
      model: decodeURIComponent(m[2]),
      version: o.modelVersion ?? (m[3] !== undefined ? decodeURIComponent(m[3]) : undefined),
    };
  }
  const baseUrl = o.url ?? readEnv(env, 'MODELSHIP_URL');
  if (baseUrl === undefined)
    throw new UsageError('no server: give --url (or MODELSHIP_URL), or a full URL such as http://127.0.0.1:8080/v2/models/mnist-mlp');
  const model = o.model ?? target;
  if (model === undefined) throw new UsageError('no model: give --model NAME or the model name as the argument');
  return { baseUrl, model, version: o.modelVersion };
}

function auth(o: InvokeOptions, env: NodeJS.ProcessEnv, credentials?: AwsCredentialIdentityProvider): ClientAuth | undefined {
  // An empty variable counts as unset: `export MODELSHIP_API_KEY=` must not send an empty key.
  const apiKey = o.apiKey ?? readEnv(env, 'MODELSHIP_API_KEY');
  const bearer = o.bearer ?? readEnv(env, 'MODELSHIP_BEARER_TOKEN');
  const chosen = [
    o.sigv4 ? '--sigv4' : undefined,
    o.apiKey !== undefined ? '--api-key' : undefined,
    o.bearer !== undefined ? '--bearer' : undefined,
  ].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`give one of --api-key, --bearer and --sigv4, not ${chosen.join(' and ')}`);
  if (o.sigv4) {
    const region = o.region ?? readEnv(env, 'AWS_REGION') ?? readEnv(env, 'AWS_DEFAULT_REGION');
    if (region === undefined) throw new UsageError("--sigv4 needs --region (or AWS_REGION): the region in the API's URL");
    return { sigv4: { region, ...(credentials !== undefined ? { credentials } : {}) } };
  }
  if (apiKey !== undefined) return { apiKey };
  if (bearer !== undefined) return { bearer };
  return undefined;
}

async function readData(data: string | undefined): Promise<{ text: string; source: string }> {
  if (data === undefined) throw new UsageError('no request: give --data @request.json, --data - (stdin), or the JSON itself');
  if (data === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'stdin' };
  }
  if (data.startsWith('@')) {
    const path = data.slice(1);
    const text = await readFile(path, 'utf8').catch((err: Error) => {
      throw new UsageError(`--data ${data}: ${path} cannot be read: ${err.message}`);
    });
    return { text, source: path };
  }
  return { text: data, source: '--data' };
}

/** Runs `modelship invoke` and writes the answer (v2 JSON) to stdout. */
export async function runInvoke(o: InvokeOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const target = parseInvokeTarget(o, env);
  const credentials =
    o.sigv4 && o.profile !== undefined
      ? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain({ profile: o.profile })
      : undefined;
  const client = new ModelClient({
    baseUrl: target.baseUrl,
    auth: auth(o, env, credentials),
    protocol: o.binary ? 'binary' : 'json',
    timeoutMs: o.timeoutMs,
    retries: o.retries !== undefined ? { max: o.retries } : undefined,
  });
  if (o.metadata) {
    process.stdout.write(`${stringifyJson(await client.metadata(target.model, target.version), 2)}\n`);
    return;
  }
  const { text, source } = await readData(o.data);
  let request;
  try {
    request = parseRequestBody(text, source);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const result = await client.infer(target.model, request.inputs, { version: target.version, id: request.id, outputs: request.outputs });
  const out = {
    model_name: result.modelName,
    model_version: result.modelVersion,
    ...(result.id !== undefined ? { id: result.id } : {}),
    outputs: result.outputs.map(tensorToJson),
  };
  process.stdout.write(`${stringifyJson(out, 2)}\n`);
}
