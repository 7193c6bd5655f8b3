/**
 * The contract: requests and what every front must answer to them, for every route the router serves and
 * every error status it or a front gives. Cases assert on the decoded answer; the suite also asserts that
 * every front gives byte-identical bodies for the same request.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getFloat16 } from '@petamoriken/float16';
import type { GoldenResponse, SampleRequest } from '../../lib/package/golden';
import type { Manifest } from '../../lib/package/manifest';
import { decodeInferResponse, encodeInferRequest } from '../../lib/protocol/client-codec';
import { DATATYPE_INFO, DATATYPES, type Datatype } from '../../lib/protocol/datatypes';
import { halfBitsFromNumbers } from '../../lib/protocol/fp16';
import { stringifyJson } from '../../lib/protocol/json';
import type { Tensor } from '../../lib/protocol/types';
import type { HttpRequest } from '../../lib/router/http';
import { CONTRACT_CONFIG, type FrontName, type FrontResponse } from './fronts';

export interface ContractCase {
  readonly name: string;
  readonly request: HttpRequest;
  check(res: FrontResponse): void;
  /** False where a front legitimately differs: a Lambda function serves one model, so it lists only that one. */
  readonly sameBodyEverywhere?: boolean;
  /** Only these fronts can give this answer; the others are not sent it. @default - every front */
  readonly fronts?: readonly FrontName[];
}

/** Values at the edges of each datatype's range, all exactly representable in it. */
export const EDGE_VALUES: Readonly<Record<Datatype, readonly unknown[]>> = {
  BOOL: [true, false, false, true],
  UINT8: [0, 255, 7, 128],
  UINT16: [0, 65535, 1, 300],
  UINT32: [0, 4294967295, 1, 70000],
  UINT64: [0n, 18446744073709551615n, 9007199254740993n, 1n],
  INT8: [-128, 127, 0, -1],
  INT16: [-32768, 32767, 0, -1],
  INT32: [-2147483648, 2147483647, 0, -1],
  INT64: [-9223372036854775808n, 9223372036854775807n, 9007199254740993n, -1n],
  FP16: [1.5, -2, 65504, 0.0009765625],
  FP32: [Math.fround(0.1), -3.5, Math.fround(3.4e38), Math.fround(1e-30)],
  FP64: [0.1, -3.5, 1.7976931348623157e308, 5e-324],
  BYTES: ['hello', 'héllo wörld', '', '🙂 ok'],
};

/** The edge values as an engine-side tensor, for building binary requests. */
export function edgeTensor(datatype: Datatype): Tensor {
  const values = EDGE_VALUES[datatype];
  const info = DATATYPE_INFO[datatype];
  let data: Tensor['data'];
  if (datatype === 'FP16') data = halfBitsFromNumbers(values as number[]);
  else if (datatype === 'BYTES') data = [...(values as string[])];
  else if (datatype === 'BOOL') data = Uint8Array.from(values as boolean[], (b) => (b ? 1 : 0));
  else {
    const arr = info.allocate(values.length) as unknown as { [i: number]: unknown };
    values.forEach((v, i) => (arr[i] = v));
    data = arr as unknown as Tensor['data'];
  }
  return { name: `in_${datatype}`, datatype, shape: [2, 2], data };
}

function plain(t: Tensor): unknown[] {
  if (t.datatype === 'BOOL') return Array.from(t.data as Uint8Array, (v) => v === 1);
  if (t.datatype === 'FP16') {
    const view = new DataView((t.data as Uint16Array).buffer);
    return Array.from({ length: t.data.length }, (_, i) => getFloat16(view, i * 2, true));
  }
  return Array.from(t.data as ArrayLike<unknown>);
}

function json(res: FrontResponse): Record<string, unknown> {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
}

function expectError(status: number, pattern: RegExp) {
  return (res: FrontResponse) => {
    expect(res.status).toBe(status);
    const body = json(res);
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(pattern);
  };
}

const get = (path: string): HttpRequest => ({ method: 'GET', path, headers: {}, body: new Uint8Array(0) });
const post = (
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): HttpRequest => ({
  method: 'POST',
  path,
  headers,
  body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
});

export interface ContractPackages {
  readonly tiny: { dir: string; name: string; version: string };
  readonly allTypes: { dir: string; name: string; version: string };
}

export function contractCases(p: ContractPackages): ContractCase[] {
  const tinyInfer = `/v2/models/${p.tiny.name}/infer`;
  const goldenRequest = readFileSync(join(p.tiny.dir, 'samples/0.request.json'), 'utf8');
  const golden = JSON.parse(readFileSync(join(p.tiny.dir, 'samples/0.response.json'), 'utf8')) as GoldenResponse;
  const manifest = JSON.parse(readFileSync(join(p.tiny.dir, 'modelship.json'), 'utf8')) as Manifest;
  const goldenInputs = (JSON.parse(goldenRequest) as SampleRequest).inputs;
  const goldenInput = goldenInputs[0].data as number[];
  const expectGolden = (outputs: Tensor[], names = ['logits', 'probabilities']) => {
    expect(outputs.map((o) => o.name)).toEqual(names);
    for (const o of outputs) {
      const g = golden.outputs.find((x) => x.name === o.name)!;
      expect(o.shape).toEqual(g.shape);
      (plain(o) as number[]).forEach((v, i) => expect(v).toBeCloseTo(g.data[i] as number, 6));
    }
  };
  const allInfer = `/v2/models/${p.allTypes.name}/infer`;
  const allJson = stringifyJson({ inputs: DATATYPES.map((d) => ({ name: `in_${d}`, datatype: d, shape: [2, 2], data: EDGE_VALUES[d] })) });

  const cases: ContractCase[] = [
    {
      name: 'GET /v2 answers server metadata with the binary extension',
      request: get('/v2'),
      check: (res) => {
        expect(res.status).toBe(200);
        const body = json(res);
        expect(body.name).toBe('modelship');
        expect(body.extensions).toContain('binary_tensor_data');
      },
    },
    {
      name: 'live',
      request: get('/v2/health/live'),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({ live: true });
      },
    },
    {
      name: 'ready',
      request: get('/v2/health/ready'),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({ ready: true });
      },
    },
    {
      name: 'model metadata matches the manifest',
      request: get(`/v2/models/${p.tiny.name}`),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({
          name: manifest.name,
          versions: [manifest.version],
          platform: 'onnxruntime_onnx',
          inputs: manifest.inputs,
          outputs: manifest.outputs,
        });
      },
    },
    {
      name: 'model metadata by version',
      request: get(`/v2/models/${p.tiny.name}/versions/${p.tiny.version}`),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res).inputs).toEqual(manifest.inputs);
      },
    },
    {
      name: 'model ready without version',
      request: get(`/v2/models/${p.tiny.name}/ready`),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({ name: p.tiny.name, version: p.tiny.version, ready: true });
      },
    },
    {
      name: 'model ready',
      request: get(`/v2/models/${p.tiny.name}/versions/${p.tiny.version}/ready`),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({ name: p.tiny.name, version: p.tiny.version, ready: true });
      },
    },
    {
      name: 'JSON infer reproduces the golden sample and echoes the id',
      request: post(tinyInfer, goldenRequest),
      check: (res) => {
        expect(res.status).toBe(200);
        const body = json(res);
        expect(body).toMatchObject({ model_name: p.tiny.name, model_version: p.tiny.version, id: 'synthetic-1' });
        expectGolden(decodeInferResponse(res.body, res.headers).outputs);
      },
    },
    {
      name: 'nested data gives the same answer as flat data',
      request: post(
        `/v2/models/${p.tiny.name}/versions/${p.tiny.version}/infer`,
        JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [goldenInput] }] }),
      ),
      check: (res) => {
        expect(res.status).toBe(200);
        expectGolden(decodeInferResponse(res.body, res.headers).outputs);
      },
    },
    {
      name: 'a requested subset of outputs',
      request: post(tinyInfer, JSON.stringify({ inputs: goldenInputs, outputs: [{ name: 'probabilities' }] })),
      check: (res) => {
        expect(res.status).toBe(200);
        expectGolden(decodeInferResponse(res.body, res.headers).outputs, ['probabilities']);
      },
    },
    (() => {
      const req = encodeInferRequest([{ name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.from(goldenInput) }], {
        binaryInputs: true,
        binaryOutputs: true,
      });
      return {
        name: 'binary extension request and response',
        request: post(tinyInfer, req.body, req.headers),
        check: (res: FrontResponse) => {
          expect(res.status).toBe(200);
          expect(res.headers['content-type']).toBe('application/octet-stream');
          const headerLength = Number(res.headers['inference-header-content-length']);
          expect(res.body.byteLength).toBe(headerLength + 2 * 3 * 4);
          expectGolden(decodeInferResponse(res.body, res.headers).outputs);
        },
      };
    })(),
    (() => {
      const req = encodeInferRequest([{ name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.from(goldenInput) }], {
        binaryInputs: true,
        binaryOutputs: true,
        sagemaker: true,
        outputs: ['logits'],
      });
      return {
        name: "SageMaker's Triton binary content type, both ways",
        request: post(tinyInfer, req.body, req.headers),
        check: (res: FrontResponse) => {
          expect(res.status).toBe(200);
          expect(res.headers['content-type']).toMatch(/^application\/vnd\.sagemaker-triton\.binary\+json;json-header-size=\d+$/);
          expectGolden(decodeInferResponse(res.body, res.headers).outputs, ['logits']);
        },
      };
    })(),
    {
      name: 'every datatype round-trips exactly through JSON',
      request: post(allInfer, allJson),
      check: (res) => {
        expect(res.status).toBe(200);
        const outputs = decodeInferResponse(res.body, res.headers).outputs;
        expect(outputs.map((o) => o.name)).toEqual(DATATYPES.map((d) => `out_${d}`));
        for (const o of outputs) expect({ [o.datatype]: plain(o) }).toEqual({ [o.datatype]: EDGE_VALUES[o.datatype] });
        // 64-bit integers must be written as exact digits, never rounded through a double.
        expect(res.body.toString()).toContain('18446744073709551615');
        expect(res.body.toString()).toContain('-9223372036854775808');
      },
    },
    (() => {
      const req = encodeInferRequest(DATATYPES.map(edgeTensor), { binaryInputs: true, binaryOutputs: true });
      return {
        name: 'every datatype round-trips exactly through the binary extension',
        request: post(allInfer, req.body, req.headers),
        check: (res: FrontResponse) => {
          expect(res.status).toBe(200);
          const outputs = decodeInferResponse(res.body, res.headers).outputs;
          for (const o of outputs) expect({ [o.datatype]: plain(o) }).toEqual({ [o.datatype]: EDGE_VALUES[o.datatype] });
        },
      };
    })(),
    // Errors: each names what is wrong.
    { name: '400 broken JSON', request: post(tinyInfer, '{"inputs": ['), check: expectError(400, /not valid JSON/) },
    { name: '400 empty body', request: post(tinyInfer, ''), check: expectError(400, /empty/) },
    {
      name: '400 unknown input',
      request: post(tinyInfer, JSON.stringify({ inputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] })),
      check: expectError(400, /unknown input 'y'.*x/),
    },
    {
      name: '400 missing input',
      request: post(allInfer, JSON.stringify({ inputs: [] })),
      check: expectError(400, /missing inputs 'in_BOOL'/),
    },
    {
      name: '400 wrong datatype',
      request: post(tinyInfer, JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] }] })),
      check: expectError(400, /input 'x': datatype is FP64 but the model expects FP32/),
    },
    {
      name: '400 wrong shape',
      request: post(tinyInfer, JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }] })),
      check: expectError(400, /input 'x': shape \[1,5\] does not match the model's \[-1,4\]/),
    },
    {
      name: '400 wrong element count',
      request: post(tinyInfer, JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4] }] })),
      check: expectError(400, /input 'x': data holds 4 elements but shape \[2,4\] needs 8/),
    },
    {
      name: '400 absurd size',
      request: post(tinyInfer, JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1e9, 4], data: [1] }] })),
      check: expectError(400, /input 'x': shape \[1000000000,4\] holds 4000000000 elements, more than the limit/),
    },
    {
      name: '400 integer out of range',
      request: post(allInfer, allJson.replace('[0,255,7,128]', '[0,256,7,128]')),
      check: expectError(400, /input 'in_UINT8': element 1 is 256; UINT8 data must be integers from 0 to 255/),
    },
    {
      name: '400 unknown output',
      request: post(tinyInfer, JSON.stringify({ inputs: goldenInputs, outputs: [{ name: 'nope' }] })),
      check: expectError(400, /unknown output 'nope'/),
    },
    {
      name: '404 unknown model',
      request: get('/v2/models/nope'),
      check: expectError(404, /unknown model 'nope'/),
      sameBodyEverywhere: false,
    },
    {
      name: '404 unknown version',
      request: get(`/v2/models/${p.tiny.name}/versions/9.9.9/ready`),
      check: expectError(404, /no version '9.9.9'/),
    },
    // The HTTP API event carries its stage in the path, and the message quotes the path it got.
    { name: '404 unknown route', request: get('/v3/whatever'), check: expectError(404, /no route/), sameBodyEverywhere: false },
    (() => {
      const header = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"parameters":{"binary_data_size":16}}]}';
      return {
        name: '400 binary data past the end of the body',
        request: post(tinyInfer, header, {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(Buffer.byteLength(header)),
        }),
        check: expectError(400, /input 'x': binary_data_size 16 runs past the end of the body \(0 bytes remain\)/),
      };
    })(),
    {
      name: '405 GET on infer',
      request: get(tinyInfer),
      check: (res) => {
        expectError(405, /use POST/)(res);
        expect(res.headers.allow).toBe('POST');
      },
    },
    {
      name: '405 POST on model metadata',
      request: post(`/v2/models/${p.tiny.name}`, '{}'),
      check: (res) => {
        expectError(405, /POST is not allowed here; use GET/)(res);
        expect(res.headers.allow).toBe('GET, HEAD');
      },
    },
    {
      // In AWS, API Gateway answers an oversized body itself before any function runs, as it does 401, 403 and 429.
      name: '413 body over the limit',
      request: post(tinyInfer, Buffer.alloc(CONTRACT_CONFIG.maxBodyBytes + 1, 0x20)),
      check: expectError(
        413,
        new RegExp(`^the body is ${CONTRACT_CONFIG.maxBodyBytes + 1} bytes; the limit is ${CONTRACT_CONFIG.maxBodyBytes}$`),
      ),
      fronts: ['local server'],
    },
  ];
  return cases;
}

/**
 * A package the engine refused (its model no longer matches its sha256) beside a good one. Only the fronts
 * that serve several packages can answer for a refused one: a Lambda function serves one package, and when
 * it refuses it the function errors instead of answering, so that version never passes its pre-traffic hook.
 */
export const REFUSED_FRONTS: readonly FrontName[] = ['router', 'local server'];

export function refusedPackageCases(
  good: { name: string; version: string },
  refused: { name: string; version: string; dir: string },
): ContractCase[] {
  const notReady = (what: RegExp) => (res: FrontResponse) => {
    expectError(503, what)(res);
    // The reason names files inside the package, never where the server keeps it.
    expect(res.body.toString('utf8')).not.toContain(refused.dir);
  };
  const because = 'model\\.onnx has sha256 [0-9a-f]{64} but the manifest says [0-9a-f]{64}';
  return [
    {
      name: 'live while a package is refused',
      request: get('/v2/health/live'),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({ live: true });
      },
    },
    {
      name: '503 ready names the refused model',
      request: get('/v2/health/ready'),
      check: notReady(new RegExp(`^not ready: model '${refused.name}' failed to load$`)),
    },
    {
      name: '503 refused model metadata',
      request: get(`/v2/models/${refused.name}`),
      check: notReady(new RegExp(`^model '${refused.name}' is not ready: ${because}`)),
    },
    {
      name: '503 refused model ready',
      request: get(`/v2/models/${refused.name}/versions/${refused.version}/ready`),
      check: notReady(new RegExp(`^model '${refused.name}' is not ready: ${because}`)),
    },
    {
      name: '503 refused model infer',
      request: post(`/v2/models/${refused.name}/infer`, '{"inputs":[]}'),
      check: notReady(new RegExp(`^model '${refused.name}' is not ready: ${because}`)),
    },
    {
      name: 'the good package still answers',
      request: get(`/v2/models/${good.name}/versions/${good.version}/ready`),
      check: (res) => {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({ name: good.name, version: good.version, ready: true });
      },
    },
  ];
}
