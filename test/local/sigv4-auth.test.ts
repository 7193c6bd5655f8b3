/**
 * IAM (SigV4) auth on the local server. The scheme is checked against requests from AWS's own SigV4
 * test suite (get-vanilla, post-vanilla, get-vanilla-query-order-key-case) and against an independent,
 * hand-written signer (HMAC chain straight from the AWS documentation), so that the verifier does not
 * only agree with the library it is built on. Then over HTTP: a request signed by @smithy/signature-v4
 * (as every AWS SDK signs) passes, a wrong secret or a body changed after signing is a 401, and the
 * config accepts, resolves and refuses SigV4 keys.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal, RequestTarget } from '../../lib/local/auth';
import { ConfigError, parseServerConfig, type SigV4Config } from '../../lib/local/config';
import type { AccessLogLine } from '../../lib/local/server';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { sigv4Scheme } from '../../lib/local/sigv4-auth';
import { ForbiddenError, UnauthorizedError } from '../../lib/protocol/errors';
import { ManualClock } from '../helpers/clock';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { send } from '../helpers/http';

/** The credentials of AWS's SigV4 test suite. */
const SUITE_KEY = 'AKIDEXAMPLE';
const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SUITE_TIME = Date.UTC(2015, 7, 30, 12, 36, 0);
const SUITE_CONFIG: SigV4Config = {
  region: 'us-east-1',
  service: 'service',
  clockSkewSeconds: 300,
  credentials: [{ accessKeyId: SUITE_KEY, secretAccessKey: SUITE_SECRET, plan: 'p', enabled: true }],
};

function suiteAuthorization(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=${SUITE_KEY}/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/** Runs the scheme and returns what it threw, failing the test when it succeeded. */
async function refusal(p: Promise<Principal>): Promise<Error> {
  const outcome = await p.then(
    (v) => ({ ok: v }),
    (err: unknown) => ({ err }),
  );
  if ('ok' in outcome) throw new Error(`expected a refusal, got principal ${outcome.ok.id}`);
  return outcome.err as Error;
}

describe("AWS's SigV4 test suite", () => {
  const scheme = (offsetSeconds = 0) => sigv4Scheme(SUITE_CONFIG, { clock: new ManualClock(SUITE_TIME + offsetSeconds * 1000) });
  const host = 'example.amazonaws.com';
  const date = '20150830T123600Z';

  test('GIVEN get-vanilla WHEN checked THEN the caller is sigv4:AKIDEXAMPLE on plan p', async () => {
    const headers = {
      host,
      'x-amz-date': date,
      authorization: suiteAuthorization('host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'),
    };
    await expect(scheme().authenticate(headers, { method: 'GET', path: '/', query: '' })).resolves.toEqual({
      id: 'sigv4:AKIDEXAMPLE',
      kind: 'sigv4',
      plan: 'p',
    });
  });

  test('GIVEN post-vanilla WHEN checked THEN accepted', async () => {
    const headers = {
      host,
      'x-amz-date': date,
      authorization: suiteAuthorization('host;x-amz-date', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'),
    };
    await expect(scheme().authenticate(headers, { method: 'POST', path: '/', query: '' })).resolves.toMatchObject({
      id: 'sigv4:AKIDEXAMPLE',
    });
  });

  test('GIVEN get-vanilla-query-order-key-case WHEN checked THEN accepted (the query is canonicalized, not taken as sent)', async () => {
    const headers = {
      host,
      'x-amz-date': date,
      authorization: suiteAuthorization('host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'),
    };
    await expect(scheme().authenticate(headers, { method: 'GET', path: '/', query: 'Param2=value2&Param1=value1' })).resolves.toMatchObject(
      { id: 'sigv4:AKIDEXAMPLE' },
    );
  });

  test('GIVEN get-vanilla with one signature digit changed, or sent as POST, or with a query added WHEN checked THEN 401 signature does not match', async () => {
    const good = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
    const cases: Array<[string, RequestTarget]> = [
      [`${good.slice(0, -1)}0`, { method: 'GET', path: '/', query: '' }],
      [good, { method: 'POST', path: '/', query: '' }],
      [good, { method: 'GET', path: '/', query: 'a=b' }],
      [good, { method: 'GET', path: '/other', query: '' }],
    ];
    for (const [signature, target] of cases) {
      const err = await refusal(
        scheme().authenticate({ host, 'x-amz-date': date, authorization: suiteAuthorization('host;x-amz-date', signature) }, target),
      );
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect(err.message).toBe('SigV4 signature does not match: check the secret access key, and that nothing was changed after signing');
    }
  });

  test('GIVEN the server clock 300 s after x-amz-date THEN accepted; 301 s after or before THEN 401 saying how far off', async () => {
    const headers = {
      host,
      'x-amz-date': date,
      authorization: suiteAuthorization('host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'),
    };
    const target = { method: 'GET', path: '/', query: '' };
    await expect(scheme(300).authenticate(headers, target)).resolves.toMatchObject({ kind: 'sigv4' });
    for (const offset of [301, -301]) {
      expect((await refusal(scheme(offset).authenticate(headers, target))).message).toBe(
        'SigV4 signature is expired or not yet valid: x-amz-date is 301 s from the server clock (at most 300 s)',
      );
    }
  });
});

/**
 * An independent SigV4 signer, written from the AWS documentation ("Create a signed AWS API request"),
 * for simple paths (no characters that need encoding) and no query.
 */
function handSign(opts: {
  method: string;
  host: string;
  path: string;
  body: string;
  date: Date;
  region: string;
  service: string;
  key: string;
  secret: string;
  extraHeaders?: Record<string, string>;
}): Record<string, string> {
  const amzDate = opts.date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { host: opts.host, 'x-amz-date': amzDate, ...opts.extraHeaders };
  const names = Object.keys(headers).sort();
  const payloadHash = createHash('sha256').update(opts.body).digest('hex');
  const canonical = [opts.method, opts.path, '', ...names.map((n) => `${n}:${headers[n].trim()}`), '', names.join(';'), payloadHash].join(
    '\n',
  );
  const scope = `${day}/${opts.region}/${opts.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${opts.secret}`, day), opts.region), opts.service), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${opts.key}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

describe('the scheme against a hand-written signer', () => {
  const KEY = 'AKIAIOSFODNN7EXAMPLE';
  const SECRET = 'hand-written-secret-0123456789abcdefghij';
  const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
  const config: SigV4Config = {
    region: 'eu-west-1',
    service: 'execute-api',
    clockSkewSeconds: 300,
    credentials: [
      { accessKeyId: KEY, secretAccessKey: SECRET, plan: 'standard', enabled: true },
      { accessKeyId: 'AKIADISABLED00000000', secretAccessKey: SECRET, plan: 'standard', enabled: false },
    ],
  };
  const scheme = sigv4Scheme(config, { clock: new ManualClock(NOW) });
  const body = '{"inputs":[]}';
  const target: RequestTarget = { method: 'POST', path: '/v2/models/tiny-mlp/infer', query: '', body: Buffer.from(body) };
  const sign = (over: Partial<Parameters<typeof handSign>[0]> = {}): Record<string, string> =>
    handSign({
      method: 'POST',
      host: '127.0.0.1:8080',
      path: target.path,
      body,
      date: new Date(NOW),
      region: 'eu-west-1',
      service: 'execute-api',
      key: KEY,
      secret: SECRET,
      ...over,
    });

  test('GIVEN a request signed by hand with the right secret WHEN checked THEN the principal with its plan', async () => {
    await expect(scheme.authenticate(sign(), target)).resolves.toEqual({ id: `sigv4:${KEY}`, kind: 'sigv4', plan: 'standard' });
  });

  test('GIVEN a signed x-amz-content-sha256 and content-type WHEN checked THEN accepted', async () => {
    const headers = sign({
      extraHeaders: { 'content-type': 'application/json', 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') },
    });
    await expect(scheme.authenticate(headers, target)).resolves.toMatchObject({ id: `sigv4:${KEY}` });
  });

  test.each<[string, () => Record<string, string>, RequestTarget, string]>([
    [
      'a wrong secret',
      () => sign({ secret: 'not-the-secret-0123456789abcdefghijklmn' }),
      target,
      'SigV4 signature does not match: check the secret access key, and that nothing was changed after signing',
    ],
    [
      'a body changed after signing',
      () => sign(),
      { ...target, body: Buffer.from('{"inputs":[1]}') },
      'SigV4 signature does not match: check the secret access key, and that nothing was changed after signing',
    ],
    [
      "a signed payload hash that is not the body's",
      () => sign({ extraHeaders: { 'x-amz-content-sha256': 'f'.repeat(64) } }),
      target,
      'x-amz-content-sha256 is not the sha256 of the body: the body was changed after signing',
    ],
    ['an unknown access key', () => sign({ key: 'AKIAUNKNOWN000000000' }), target, 'SigV4 access key AKIAUNKNOWN000000000 is not known'],
    [
      'another region',
      () => sign({ region: 'us-east-1' }),
      target,
      'SigV4 credential scope is for region "us-east-1"; this API is in eu-west-1',
    ],
    ['another service', () => sign({ service: 's3' }), target, 'SigV4 credential scope is for service "s3"; this API is execute-api'],
    [
      'a date 10 minutes old',
      () => sign({ date: new Date(NOW - 600_000) }),
      target,
      'SigV4 signature is expired or not yet valid: x-amz-date is 600 s from the server clock (at most 300 s)',
    ],
    [
      'no x-amz-date',
      () => {
        const h = sign();
        delete h['x-amz-date'];
        return h;
      },
      target,
      'SigV4 requests need an x-amz-date header such as 20260501T120000Z',
    ],
    [
      'a signed header that is missing',
      () => {
        const h = sign({ extraHeaders: { 'x-custom': 'v' } });
        delete h['x-custom'];
        return h;
      },
      target,
      'SigV4 signed header "x-custom" is not in the request',
    ],
    [
      'a session token',
      () => sign({ extraHeaders: { 'x-amz-security-token': 'token' } }),
      target,
      'temporary credentials (x-amz-security-token) cannot be checked by the local server; sign with a configured access key',
    ],
    [
      'a malformed Authorization',
      () => ({ ...sign(), authorization: 'AWS4-HMAC-SHA256 Credential=x' }),
      target,
      'Authorization: AWS4-HMAC-SHA256 is malformed; expected Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=<headers>, Signature=<hex>',
    ],
  ])('GIVEN %s WHEN checked THEN 401 with the reason', async (_what, headers, request, message) => {
    const err = await refusal(scheme.authenticate(headers(), request));
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain(SECRET);
  });

  test('GIVEN SignedHeaders without host WHEN checked THEN 401', async () => {
    const headers = sign();
    headers.authorization = headers.authorization.replace('SignedHeaders=host;x-amz-date', 'SignedHeaders=x-amz-date');
    expect((await refusal(scheme.authenticate(headers, target))).message).toBe('SigV4 SignedHeaders must include host');
  });

  test('GIVEN a disabled key with a right signature WHEN checked THEN 403; with a wrong one THEN 401 (disabled is only told to the key holder)', async () => {
    const right = await refusal(scheme.authenticate(sign({ key: 'AKIADISABLED00000000' }), target));
    expect(right).toBeInstanceOf(ForbiddenError);
    expect(right.message).toBe('SigV4 access key AKIADISABLED00000000 is disabled');
    const wrong = await refusal(scheme.authenticate(sign({ key: 'AKIADISABLED00000000', secret: 'x'.repeat(40) }), target));
    expect(wrong).toBeInstanceOf(UnauthorizedError);
  });

  test('GIVEN only headers (no request target) WHEN checked THEN an Error: the server must pass the request', async () => {
    await expect(scheme.authenticate(sign())).rejects.toThrow('SigV4 verification needs the request method, path, query and body');
  });
});

describe('SigV4 config', () => {
  const plans = { standard: { rateLimit: 10, burstLimit: 10 } };
  const cred = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', plan: 'standard' };

  test('GIVEN a sigv4 section only WHEN parsed THEN the secret is resolved from the environment and the service defaults to execute-api', () => {
    const config = parseServerConfig(
      { plans, sigv4: { region: 'eu-west-1', credentials: [{ ...cred, secretAccessKeyFromEnv: 'SIGV4_SECRET' }] } },
      'cfg.json',
      { SIGV4_SECRET: 's'.repeat(40) },
    );
    expect(config.sigv4).toEqual({
      region: 'eu-west-1',
      service: 'execute-api',
      clockSkewSeconds: 300,
      credentials: [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's'.repeat(40), plan: 'standard', enabled: true }],
    });
    expect(config.apiKeys).toEqual([]);
  });

  test.each<[string, unknown, string]>([
    [
      'an unknown plan',
      { region: 'eu-west-1', credentials: [{ ...cred, plan: 'gold', secretAccessKey: 's'.repeat(40) }] },
      'sigv4.credentials[0].plan: unknown plan "gold" (plans: standard)',
    ],
    [
      'both secret forms',
      { region: 'eu-west-1', credentials: [{ ...cred, secretAccessKey: 's'.repeat(40), secretAccessKeyFromEnv: 'X' }] },
      'give exactly one of "secretAccessKey" and "secretAccessKeyFromEnv"',
    ],
    [
      'a lower-case access key id',
      { region: 'eu-west-1', credentials: [{ ...cred, accessKeyId: 'akiaiosfodnn7example', secretAccessKey: 's'.repeat(40) }] },
      'sigv4.credentials[0].accessKeyId: must be 16-128 upper-case letters and digits',
    ],
    [
      'a repeated access key id',
      {
        region: 'eu-west-1',
        credentials: [
          { ...cred, secretAccessKey: 's'.repeat(40) },
          { ...cred, secretAccessKey: 't'.repeat(40) },
        ],
      },
      'sigv4.credentials[1].accessKeyId: "AKIAIOSFODNN7EXAMPLE" is used by another credential',
    ],
    [
      'an unset environment variable',
      { region: 'eu-west-1', credentials: [{ ...cred, secretAccessKeyFromEnv: 'UNSET_SECRET' }] },
      'sigv4.credentials[0].secretAccessKeyFromEnv: environment variable UNSET_SECRET is not set',
    ],
    [
      'another service',
      { region: 'eu-west-1', service: 's3', credentials: [{ ...cred, secretAccessKey: 's'.repeat(40) }] },
      'sigv4.service',
    ],
  ])('GIVEN %s WHEN parsed THEN a ConfigError naming the field', (_what, sigv4, message) => {
    let thrown: unknown;
    try {
      parseServerConfig({ plans, sigv4 }, 'cfg.json', {});
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain(message);
  });
});

describe('over HTTP', () => {
  const KEY = 'AKIAHTTPTEST00000001';
  const SECRET = 'http-test-secret-0123456789abcdefghijklm';
  let running: RunningServer;
  let goldenRequest: string;
  let goldenOutputs: unknown;
  const log: AccessLogLine[] = [];
  /** The server's clock; requests are signed at its time unless a test says otherwise. */
  const clock = new ManualClock();

  beforeAll(async () => {
    const pkg = await makeTinyMlpPackage(tempDir('modelship-sigv4-'));
    goldenRequest = readFileSync(join(pkg.dir, 'samples/0.request.json'), 'utf8');
    goldenOutputs = (JSON.parse(readFileSync(join(pkg.dir, 'samples/0.response.json'), 'utf8')) as { outputs: unknown }).outputs;
    running = await startServer({
      dirs: [pkg.dir],
      port: 0,
      clock,
      config: parseServerConfig({
        plans: { standard: { rateLimit: 1000, burstLimit: 1000 } },
        sigv4: { region: 'eu-west-1', credentials: [{ accessKeyId: KEY, secretAccessKey: SECRET, plan: 'standard' }] },
      }),
      onRequest: (l) => log.push(l),
    });
  });

  afterAll(() => running.close());

  /** Signs like every AWS SDK does (the signer adds x-amz-content-sha256), then sends. */
  async function signedInfer(
    secret: string,
    body: string,
    sendBody = body,
    path = '/v2/models/tiny-mlp/infer',
    query: Record<string, string> = {},
    sendQuery = query,
    signingDate = new Date(clock.now()),
  ) {
    const url = new URL(running.url);
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      sha256: Sha256,
      credentials: { accessKeyId: KEY, secretAccessKey: secret },
    });
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path,
        query,
        headers: { host: url.host, 'content-type': 'application/json' },
        body,
      },
      { signingDate },
    );
    // Percent-encoded as the SDKs do (a space is %20, never '+').
    const qs = Object.entries(sendQuery)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    return send(`${running.url}${path}${qs ? `?${qs}` : ''}`, { headers: signed.headers, body: sendBody });
  }

  test('GIVEN a request signed with the right secret WHEN sent THEN 200 with the golden outputs, logged as sigv4:<key>', async () => {
    const r = await signedInfer(SECRET, goldenRequest);
    expect(r.status).toBe(200);
    expect((r.json as { outputs: unknown }).outputs).toEqual(goldenOutputs);
    expect(log[log.length - 1]).toMatchObject({ status: 200, principal: `sigv4:${KEY}` });
  });

  test('GIVEN a signed query string WHEN sent as signed THEN 200; WHEN changed after signing THEN 401', async () => {
    const query = { trace: 'a b/c', z: '1' };
    const path = '/v2/models/tiny-mlp/infer';
    expect((await signedInfer(SECRET, goldenRequest, goldenRequest, path, query)).status).toBe(200);
    expect((await signedInfer(SECRET, goldenRequest, goldenRequest, path, query, { ...query, z: '2' })).status).toBe(401);
  });

  test('GIVEN a wrong secret WHEN sent THEN 401 JSON that does not repeat the secret', async () => {
    const r = await signedInfer('wrong-secret-0123456789abcdefghijklmnopq', goldenRequest);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({
      error: 'SigV4 signature does not match: check the secret access key, and that nothing was changed after signing',
    });
    expect(log[log.length - 1]).toMatchObject({ status: 401, principal: undefined });
  });

  test('GIVEN a request signed 300 s before the server clock THEN 200; signed 301 s before THEN 401 saying how far off', async () => {
    const path = '/v2/models/tiny-mlp/infer';
    expect((await signedInfer(SECRET, goldenRequest, goldenRequest, path, {}, {}, new Date(clock.now() - 300_000))).status).toBe(200);
    const late = await signedInfer(SECRET, goldenRequest, goldenRequest, path, {}, {}, new Date(clock.now() - 301_000));
    expect(late.status).toBe(401);
    expect(late.json).toEqual({
      error: 'SigV4 signature is expired or not yet valid: x-amz-date is 301 s from the server clock (at most 300 s)',
    });
  });

  test('GIVEN the body changed after signing WHEN sent THEN 401 naming the payload hash', async () => {
    const tampered = goldenRequest.replace(/\d/, '9');
    expect(tampered).not.toBe(goldenRequest);
    const r = await signedInfer(SECRET, goldenRequest, tampered);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'x-amz-content-sha256 is not the sha256 of the body: the body was changed after signing' });
  });

  test('GIVEN no credentials WHEN sent THEN 401 saying a SigV4 signature is expected', async () => {
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, {
      headers: { 'content-type': 'application/json' },
      body: goldenRequest,
    });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'missing credentials: send an AWS SigV4 signature in Authorization' });
  });
});
