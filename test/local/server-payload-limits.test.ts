/**
 * The local server holds a cpu package's model routes to Lambda's payload limits, as LambdaModel deploys
 * them, and answers over either with the same JSON 413 the Lambda handler gives: a body over the event's
 * share of 6 MiB, and an answer whose proxy result would pass 6 MiB. A gpu package (SageMaker or ECS when
 * deployed) keeps API Gateway's body limit alone, and `lambdaPayloadLimits: false` turns the mirror off.
 */
import type { ApiGatewayEvent, ApiGatewayResult } from '../../lambda/api-gateway';
import { parseServerConfig, type ServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { loadLambdaHandler, restEvent } from '../contract/fronts';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { errorMessage, send, type HttpAnswer } from '../helpers/http';
import { makeWidePackage, paddedRequest, WIDE_COLUMNS, wideRequest } from '../lambda/payload-fixtures';

const KEY = 'payload-limits-key-0123456789abcdef';
const LIMIT = 6_291_456;

function config(extra: Record<string, unknown> = {}): ServerConfig {
  return parseServerConfig({
    plans: { roomy: { rateLimit: 1e6, burstLimit: 1e6 } },
    apiKeys: [{ name: 'test', value: KEY, plan: 'roomy' }],
    ...extra,
  });
}

let mirrored: RunningServer;
let unmirrored: RunningServer;
let handler: (event: ApiGatewayEvent) => Promise<ApiGatewayResult>;

beforeAll(async () => {
  const parent = tempDir('modelship-payload-limits-');
  const [tiny, wide, wideGpu] = await Promise.all([
    makeTinyMlpPackage(parent),
    makeWidePackage(parent, 'wide'),
    makeWidePackage(parent, 'wide-gpu', 'gpu'),
  ]);
  mirrored = await startServer({ dirs: [tiny.dir, wide.dir, wideGpu.dir], port: 0, config: config(), page: false });
  unmirrored = await startServer({ dirs: [wide.dir], port: 0, config: config({ lambdaPayloadLimits: false }), page: false });
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  handler = loadLambdaHandler(wide.dir);
});

afterAll(async () => {
  await Promise.all([mirrored?.close(), unmirrored?.close()]);
});

function post(server: RunningServer, path: string, body: string | Buffer, contentType = 'application/json'): Promise<HttpAnswer> {
  return send(`${server.url}${path}`, { headers: { 'x-api-key': KEY, 'content-type': contentType }, body, timeoutMs: 30_000 });
}

/** What the Node.js runtime would send back for this answer as a Lambda proxy result. */
function resultBytes(answer: HttpAnswer): number {
  const result = {
    statusCode: answer.status,
    headers: { 'content-type': String(answer.headers['content-type']) },
    body: answer.body.toString('utf8'),
  };
  return Buffer.byteLength(JSON.stringify({ ...result, isBase64Encoded: false }), 'utf8');
}

describe('a cpu package: Lambda limits, as deployed', () => {
  test('GIVEN a JSON body that takes exactly 6225920 bytes in a Lambda event WHEN posted THEN it is served (200)', async () => {
    const r = await post(mirrored, '/v2/models/tiny-mlp/infer', paddedRequest(6_225_920));

    expect(r.status).toBe(200);
  });

  test('GIVEN one byte more WHEN posted THEN a JSON 413 with the limit and the binary extension as the way out', async () => {
    const r = await post(mirrored, '/v2/models/tiny-mlp/infer', paddedRequest(6_225_921));

    expect(r.status).toBe(413);
    expect(r.headers['content-type']).toBe('application/json');
    expect(errorMessage(r)).toBe(
      "the body would take 6225921 bytes in the Lambda event; the limit is 6225920 (Lambda's 6291456-byte synchronous payload, " +
        'less 65536 for the rest of the event); send the tensors with the binary extension, or a smaller batch',
    );
  });

  test('GIVEN a binary body of 4669440 bytes (6225920 in base64) WHEN posted THEN 413 counting the base64, advising a smaller batch', async () => {
    const r = await post(mirrored, '/v2/models/tiny-mlp/infer', Buffer.alloc(4_669_440, 0x20), 'application/octet-stream');

    expect(r.status).toBe(413);
    expect(errorMessage(r)).toBe(
      "the body would take 6225922 bytes in the Lambda event, base64-encoded; the limit is 6225920 (Lambda's 6291456-byte " +
        'synchronous payload, less 65536 for the rest of the event); send a smaller batch',
    );
  });

  test('GIVEN an answer of 11.5 MB as JSON WHEN asked for THEN the same 413, byte for byte, as the Lambda handler gives', async () => {
    const full = await post(unmirrored, '/v2/models/wide/infer', wideRequest(16));
    expect(full.status).toBe(200);

    const r = await post(mirrored, '/v2/models/wide/infer', wideRequest(16));
    const lambda = await handler(
      restEvent({
        method: 'POST',
        path: '/v2/models/wide/infer',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(wideRequest(16)),
      }),
    );

    expect(r.status).toBe(413);
    expect(errorMessage(r)).toBe(
      `the response would take ${resultBytes(full)} bytes as a Lambda result, over Lambda's 6291456-byte synchronous payload limit; ` +
        'ask for binary outputs (parameters.binary_data_output: true), or send a smaller batch',
    );
    expect(resultBytes(full)).toBeGreaterThan(LIMIT);
    expect(lambda.statusCode).toBe(413);
    expect(r.body.toString('utf8')).toBe(lambda.body);
  });

  test('GIVEN a versioned path to the same answer WHEN asked for THEN 413 too', async () => {
    const r = await post(mirrored, '/v2/models/wide/versions/1.0.0/infer', wideRequest(16));

    expect(r.status).toBe(413);
    expect(errorMessage(r)).toMatch(/^the response would take \d+ bytes as a Lambda result, over/);
  });

  test('GIVEN the same rows with binary outputs WHEN asked for THEN 200 with every element', async () => {
    const r = await post(mirrored, '/v2/models/wide/infer', wideRequest(16, true));

    expect(r.status).toBe(200);
    const header = Number(r.headers['inference-header-content-length']);
    expect(r.body.byteLength - header).toBe(16 * WIDE_COLUMNS * 4);
  });
});

describe('where the Lambda limits do not apply', () => {
  test('GIVEN a gpu package WHEN its answer is 11.5 MB of JSON THEN it is served whole (200)', async () => {
    const r = await post(mirrored, '/v2/models/wide-gpu/infer', wideRequest(16));

    expect(r.status).toBe(200);
    expect((r.json as { outputs: Array<{ data: number[] }> }).outputs[0].data).toHaveLength(16 * WIDE_COLUMNS);
  });

  test('GIVEN a gpu package WHEN sent a body over the Lambda share THEN it is read and decoded (400 for its shape), not refused for size', async () => {
    const r = await post(mirrored, '/v2/models/wide-gpu/infer', paddedRequest(6_225_921));

    expect(r.status).toBe(400);
    expect(errorMessage(r)).toMatch(/^input 'x': shape \[1,4\]/);
  });

  test('GIVEN lambdaPayloadLimits: false WHEN a cpu package answers 11.5 MB of JSON THEN it is served whole (200)', async () => {
    const r = await post(unmirrored, '/v2/models/wide/infer', wideRequest(16));

    expect(r.status).toBe(200);
    expect(r.body.byteLength).toBeGreaterThan(11_000_000);
  });

  test('GIVEN a config WHEN parsed THEN lambdaPayloadLimits defaults to true and must be a boolean', () => {
    expect(config().lambdaPayloadLimits).toBe(true);
    expect(() => config({ lambdaPayloadLimits: 'yes' })).toThrow(/lambdaPayloadLimits: /);
  });
});
