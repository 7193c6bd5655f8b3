/**
 * The Lambda front against Lambda's 6 MiB synchronous payload limit: an answer whose proxy result would be
 * over it becomes a JSON 413 that names its size (instead of a failed invocation, which API Gateway turns
 * into an opaque 502), counted as the runtime serializes it; a body over the event's share of it is refused
 * with a 413 as well. Sizes are checked at the exact boundary.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type ApiGatewayEvent, type ApiGatewayResult, requestFromEvent, resultFromResponse } from '../../lambda/api-gateway';
import { InferenceEngine } from '../../lib/engine/engine';
import { ModelRouter } from '../../lib/router/router';
import type { HttpResponse } from '../../lib/router/http';
import { httpApiEvent, loadLambdaHandler, restEvent } from '../contract/fronts';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { makeWidePackage, paddedRequest, WIDE_COLUMNS, wideRequest } from './payload-fixtures';

const LIMIT = 6_291_456;
const JSON_HEADERS = { 'content-type': 'application/json' };

let tiny: ModelRouter;
let wide: ModelRouter;
let engines: InferenceEngine[];
let handler: (event: ApiGatewayEvent) => Promise<ApiGatewayResult>;

beforeAll(async () => {
  const parent = tempDir('modelship-lambda-payload-');
  const [tinyPkg, widePkg] = await Promise.all([makeTinyMlpPackage(parent), makeWidePackage(parent, 'wide')]);
  engines = await Promise.all([InferenceEngine.load(tinyPkg.dir), InferenceEngine.load(widePkg.dir)]);
  tiny = new ModelRouter([engines[0]]);
  wide = new ModelRouter([engines[1]]);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  handler = loadLambdaHandler(widePkg.dir);
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.release()));
});

/** What the Node.js runtime sends back for a result: JSON.stringify of it. */
function serializedBytes(result: ApiGatewayResult): number {
  return Buffer.byteLength(JSON.stringify(result), 'utf8');
}

function errorOf(result: ApiGatewayResult): string {
  expect(result.headers).toEqual(JSON_HEADERS);
  expect(result.isBase64Encoded).toBe(false);
  return (JSON.parse(result.body) as { error: string }).error;
}

/** The bytes of a result with an empty body: the room the answer's headers and the result's keys take. */
function envelopeBytes(headers: Record<string, string>, base64: boolean): number {
  return serializedBytes({ statusCode: 200, headers, body: '', isBase64Encoded: base64 });
}

describe('resultFromResponse: the answer Lambda would refuse', () => {
  test('GIVEN a JSON answer whose result is exactly 6291456 bytes WHEN converted THEN it goes back as it is', () => {
    const body = 'a'.repeat(LIMIT - envelopeBytes(JSON_HEADERS, false));
    const result = resultFromResponse({ status: 200, headers: JSON_HEADERS, body });

    expect(result.statusCode).toBe(200);
    expect(result.body).toBe(body);
    expect(serializedBytes(result)).toBe(LIMIT);
  });

  test('GIVEN a JSON answer one byte over WHEN converted THEN a JSON 413 that names the size and suggests binary outputs', () => {
    const body = 'a'.repeat(LIMIT - envelopeBytes(JSON_HEADERS, false) + 1);
    const result = resultFromResponse({ status: 200, headers: JSON_HEADERS, body });

    expect(result.statusCode).toBe(413);
    expect(errorOf(result)).toBe(
      "the response would take 6291457 bytes as a Lambda result, over Lambda's 6291456-byte synchronous payload limit; " +
        'ask for binary outputs (parameters.binary_data_output: true), or send a smaller batch',
    );
  });

  test('GIVEN quotes in a JSON answer WHEN converted THEN each counts twice, as the result escapes it', () => {
    // Unescaped, these quotes would leave room to spare; escaped, they take 2 bytes each and do not fit.
    const room = LIMIT - envelopeBytes(JSON_HEADERS, false);
    const quotes = Math.floor(room / 2) + 1;
    const result = resultFromResponse({ status: 200, headers: JSON_HEADERS, body: '"'.repeat(quotes) });

    expect(quotes).toBeLessThan(room);
    expect(result.statusCode).toBe(413);
    expect(errorOf(result)).toMatch(new RegExp(`^the response would take ${LIMIT - room + 2 * quotes} bytes as a Lambda result, over`));
  });

  test('GIVEN a binary answer WHEN its base64 fits THEN it goes back; 1 byte more (4 base64 characters) THEN 413 advising a smaller batch', () => {
    const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': '120' };
    const fits = 3 * Math.floor((LIMIT - envelopeBytes(headers, true)) / 4);
    const ok = resultFromResponse({ status: 200, headers, body: new Uint8Array(fits) });
    const over = resultFromResponse({ status: 200, headers, body: new Uint8Array(fits + 1) });

    expect(ok.statusCode).toBe(200);
    expect(ok.isBase64Encoded).toBe(true);
    expect(serializedBytes(ok)).toBeLessThanOrEqual(LIMIT);
    expect(serializedBytes(ok)).toBeGreaterThan(LIMIT - 4);
    expect(over.statusCode).toBe(413);
    expect(errorOf(over)).toBe(
      `the response would take ${serializedBytes(ok) + 4} bytes as a Lambda result, base64-encoded, ` +
        "over Lambda's 6291456-byte synchronous payload limit; send a smaller batch",
    );
  });
});

describe('requestFromEvent: the body Lambda would refuse', () => {
  const tinyInfer = (body: string) => ({
    method: 'POST',
    path: '/v2/models/tiny-mlp/infer',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body),
  });

  test('GIVEN a REST event whose body takes exactly 6225920 bytes in it WHEN answered THEN the model runs (200)', async () => {
    const event = restEvent(tinyInfer(paddedRequest(6_225_920)));
    expect(Buffer.byteLength(JSON.stringify(event.body))).toBe(6_225_920);

    const response = await tiny.handle(requestFromEvent(event));

    expect(response.status).toBe(200);
  });

  test('GIVEN a REST event whose body takes 6225921 bytes WHEN answered THEN a JSON 413 with the limit and the binary extension as the way out', async () => {
    const response = await tiny.handle(requestFromEvent(restEvent(tinyInfer(paddedRequest(6_225_921)))));

    expect(response.status).toBe(413);
    expect(JSON.parse(response.body as string)).toEqual({
      error:
        "the body would take 6225921 bytes in the Lambda event; the limit is 6225920 (Lambda's 6291456-byte synchronous payload, " +
        'less 65536 for the rest of the event); send the tensors with the binary extension, or a smaller batch',
    });
  });

  test('GIVEN an HTTP API event with a base64 body over the limit WHEN answered THEN 413 that counts the base64 and advises a smaller batch', async () => {
    // 4,669,440 raw bytes are 6,225,920 base64 characters; with its quotes the body takes 6,225,922.
    const event = httpApiEvent({
      method: 'POST',
      path: '/v2/models/tiny-mlp/infer',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '2' },
      body: Buffer.alloc(4_669_440, 0x20),
    });
    expect(event.isBase64Encoded).toBe(true);

    const response = await tiny.handle(requestFromEvent(event));

    expect(response.status).toBe(413);
    expect(JSON.parse(response.body as string)).toEqual({
      error:
        "the body would take 6225922 bytes in the Lambda event, base64-encoded; the limit is 6225920 (Lambda's 6291456-byte " +
        'synchronous payload, less 65536 for the rest of the event); send a smaller batch',
    });
  });
});

describe('the handler, end to end, with a model whose answer is 65536 times its request', () => {
  const inferEvent = (body: string): APIGatewayProxyEvent =>
    restEvent({ method: 'POST', path: '/v2/models/wide/infer', headers: { 'content-type': 'application/json' }, body: Buffer.from(body) });

  test('GIVEN 16 rows as JSON (11.5 MB of answer) WHEN invoked THEN a JSON 413 that names the result size Lambda would have refused', async () => {
    const full: HttpResponse = await wide.handle(wideHttpRequest(wideRequest(16)));
    const wouldBe = serializedBytes({ statusCode: 200, headers: full.headers, body: full.body as string, isBase64Encoded: false });
    expect(wouldBe).toBeGreaterThan(11_000_000);

    const result = await handler(inferEvent(wideRequest(16)));

    expect(result.statusCode).toBe(413);
    expect(errorOf(result)).toBe(
      `the response would take ${wouldBe} bytes as a Lambda result, over Lambda's 6291456-byte synchronous payload limit; ` +
        'ask for binary outputs (parameters.binary_data_output: true), or send a smaller batch',
    );
  });

  test('GIVEN the same 16 rows with binary outputs WHEN invoked THEN 200: 4 MiB of tensor, base64, fits under the limit', async () => {
    const result = await handler(inferEvent(wideRequest(16, true)));

    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(serializedBytes(result)).toBeLessThanOrEqual(LIMIT);
    const bytes = Buffer.from(result.body, 'base64');
    const header = Number(result.headers?.['inference-header-content-length']);
    const y = new Float32Array(bytes.buffer.slice(bytes.byteOffset + header, bytes.byteOffset + bytes.byteLength));
    expect(y.length).toBe(16 * WIDE_COLUMNS);
    expect(y[y.length - 1]).toBe(Math.fround(0.123456789));
  });

  test('GIVEN 32 rows with binary outputs (8 MiB) WHEN invoked THEN 413 advising a smaller batch', async () => {
    const result = await handler(inferEvent(wideRequest(32, true)));

    expect(result.statusCode).toBe(413);
    expect(errorOf(result)).toMatch(
      /^the response would take \d+ bytes as a Lambda result, base64-encoded, over Lambda's 6291456-byte synchronous payload limit; send a smaller batch$/,
    );
  });

  test('GIVEN a 7,000,000-byte body WHEN invoked THEN a JSON 413, not an exception', async () => {
    const result = await handler(inferEvent(paddedRequest(7_000_000)));

    expect(result.statusCode).toBe(413);
    expect(errorOf(result)).toMatch(/^the body would take 7000000 bytes in the Lambda event; the limit is 6225920 \(/);
  });
});

function wideHttpRequest(body: string) {
  return { method: 'POST', path: '/v2/models/wide/infer', headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
}
