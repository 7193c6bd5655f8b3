/**
 * Bad input over real HTTP: well over 1,000 malformed requests, made by a seeded generator, go to a running
 * local server over keep-alive connections. Each one must get the exact 4xx its fault calls for, with a
 * JSON body `{"error": "<non-empty message>"}` that names the input (or output) at fault where there is
 * one; none may get a 5xx; and afterwards the server must still answer golden samples exactly.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { parseServerConfig } from '../../lib/local/config';
import type { AccessLogLine } from '../../lib/local/server';
import { startServer, type RunningServer } from '../../lib/local/serve';
import type { Manifest } from '../../lib/package/manifest';
import { seededRandom } from '../../lib/package/seeded-random';
import { DATATYPE_INFO, DATATYPES, type Datatype } from '../../lib/protocol/datatypes';
import { makeAllTypesPackage, makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';
import { errorMessage, runPool, send, type HttpAnswer } from '../helpers/http';

const KEY = 'bad-input-key-0123456789abcdefghijk';
const LIMIT = 64 * 1024;
const CONCURRENCY = 8;

/** One malformed request and what it must get. */
interface Case {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  /** Sent with chunked transfer encoding instead of Content-Length. */
  readonly chunks?: Buffer[];
  readonly status: 400 | 404 | 405 | 413;
  /** Text the error must contain: the quoted name of the input or output at fault. */
  readonly mention?: string;
}

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)];

/** A JSON value written as raw text, for numbers JSON.stringify cannot write (beyond 2^53, exactly). */
class Raw {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `\u0000RAW${this.text}\u0000`;
  }
}
function toJson(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000RAW([^\\]*)\\u0000"/g, '$1');
}

type WireInput = Record<string, unknown>;
interface Model {
  readonly name: string;
  /** The model's inputs as [name, datatype, inner dimension]. */
  readonly inputs: ReadonlyArray<readonly [string, Datatype, number]>;
}
const TINY: Model = { name: 'tiny-mlp', inputs: [['x', 'FP32', 4]] };
const ALL: Model = { name: 'all-types', inputs: DATATYPES.map((d) => [`in_${d}`, d, 2] as const) };

/** A valid element of `dt`. */
function goodValue(r: Rng, dt: Datatype): unknown {
  const info = DATATYPE_INFO[dt];
  switch (info.json) {
    case 'boolean':
      return r() < 0.5;
    case 'string':
      return `s${int(r, 0, 999)}`;
    case 'integer':
      return int(r, 0, 100);
    default:
      return Math.round((r() * 2 - 1) * 1000) / 100;
  }
}

function goodInput(r: Rng, name: string, dt: Datatype, inner: number, batch: number): WireInput {
  return { name, shape: [batch, inner], datatype: dt, data: Array.from({ length: batch * inner }, () => goodValue(r, dt)) };
}

/** A valid request for `model`, and the index of the input the caller will break. */
function goodRequest(r: Rng, model: Model): { inputs: WireInput[]; target: number } {
  const batch = int(r, 1, 3);
  const inputs = model.inputs.map(([n, d, k]) => goodInput(r, n, d, k, batch));
  return { inputs, target: int(r, 0, inputs.length - 1) };
}

function inferPath(r: Rng, model: Model): string {
  return r() < 0.3 ? `/v2/models/${model.name}/versions/1.0.0/infer` : `/v2/models/${model.name}/infer`;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A case that breaks one input of a valid request; the error must name that input. */
function inputCase(
  r: Rng,
  kind: string,
  breakIt: (input: WireInput, dt: Datatype, inner: number) => void,
  model = r() < 0.4 ? TINY : ALL,
): Case {
  const { inputs, target } = goodRequest(r, model);
  const [name, dt, inner] = model.inputs[target];
  breakIt(inputs[target], dt, inner);
  return {
    kind,
    method: 'POST',
    path: inferPath(r, model),
    headers: JSON_HEADERS,
    body: Buffer.from(toJson({ inputs })),
    status: 400,
    mention: `'${name}'`,
  };
}

function otherDatatype(r: Rng, dt: Datatype): Datatype {
  const others = DATATYPES.filter((d) => d !== dt);
  return pick(r, others);
}

/** Values of the wrong JSON kind for `dt`. */
function wrongKindValues(dt: Datatype): unknown[] {
  const info = DATATYPE_INFO[dt];
  switch (info.json) {
    case 'boolean':
      return [0, 1, 'true', null, {}, [], 2.5];
    case 'string':
      return [0, 1.5, true, null, {}, []];
    case 'integer':
      return ['1', true, null, {}, 1.5, -0.25, 1e300, -1e300];
    default:
      return ['1', true, false, null, {}];
  }
}

/** Integers just outside the range of an integer datatype, as raw JSON text where doubles cannot hold them. */
function outOfRange(dt: Datatype): unknown[] {
  const info = DATATYPE_INFO[dt];
  if (info.json !== 'integer') return [];
  const min = BigInt(info.min as number | bigint);
  const max = BigInt(info.max as number | bigint);
  const lit = (v: bigint): unknown => (v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : new Raw(v.toString()));
  return [lit(min - 1n), lit(max + 1n), lit(max + 1000n), lit(min - 2n ** 70n), new Raw('1' + '0'.repeat(30))];
}

const CASE_GENERATORS: Array<[kind: string, count: number, make: (r: Rng) => Case]> = [
  // ---- broken JSON -----------------------------------------------------------------------------
  [
    'truncated JSON',
    80,
    (r) => {
      const model = r() < 0.5 ? TINY : ALL;
      const text = toJson({ inputs: goodRequest(r, model).inputs });
      return {
        kind: 'truncated JSON',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(text.slice(0, int(r, 0, text.length - 1))),
        status: 400,
      };
    },
  ],
  [
    'random bytes',
    60,
    (r) => {
      const body = Buffer.from(Array.from({ length: int(r, 1, 300) }, () => int(r, 0, 255)));
      return { kind: 'random bytes', method: 'POST', path: inferPath(r, TINY), body, status: 400 };
    },
  ],
  [
    'random printable text',
    40,
    (r) => {
      const text = Array.from({ length: int(r, 1, 120) }, () => String.fromCharCode(int(r, 32, 126))).join('');
      const body = Buffer.from(r() < 0.5 ? `{${text}` : text);
      return { kind: 'random printable text', method: 'POST', path: inferPath(r, ALL), headers: JSON_HEADERS, body, status: 400 };
    },
  ],
  [
    'one character corrupted',
    60,
    (r) => {
      const model = r() < 0.5 ? TINY : ALL;
      const text = toJson({ inputs: goodRequest(r, model).inputs });
      const at = int(r, 0, text.length - 1);
      const replacement = text[at] === '"' ? '}' : '"';
      return {
        kind: 'one character corrupted',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(text.slice(0, at) + replacement + text.slice(at + 1)),
        status: 400,
      };
    },
  ],
  [
    'not a JSON object',
    20,
    (r) => {
      const body = pick(r, ['[]', '[{"inputs":[]}]', '42', '"inputs"', 'null', 'true', '   ', '\n', '{}{}', '{"inputs":[]} x']);
      return {
        kind: 'not a JSON object',
        method: 'POST',
        path: inferPath(r, pick(r, [TINY, ALL])),
        headers: JSON_HEADERS,
        body: Buffer.from(body),
        status: 400,
      };
    },
  ],
  [
    'empty body',
    10,
    (r) => ({
      kind: 'empty body',
      method: 'POST',
      path: inferPath(r, pick(r, [TINY, ALL])),
      headers: JSON_HEADERS,
      body: Buffer.alloc(0),
      status: 400,
    }),
  ],
  [
    'deeply nested JSON',
    10,
    (r) => {
      const depth = int(r, 2000, 20000);
      const inner = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      // A long digit run sends the body through the lossless (recursive) JSON parser.
      const long = r() < 0.5 ? ',"pad":12345678901234567890' : '';
      const body = `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":${inner}}]${long}}`;
      return {
        kind: 'deeply nested JSON',
        method: 'POST',
        path: inferPath(r, TINY),
        headers: JSON_HEADERS,
        body: Buffer.from(body),
        status: 400,
      };
    },
  ],
  // ---- invalid UTF-8 ---------------------------------------------------------------------------
  [
    'invalid UTF-8',
    60,
    (r) => {
      const model = r() < 0.5 ? TINY : ALL;
      const text = toJson({ id: 'req-\u0001', inputs: goodRequest(r, model).inputs });
      const bad = pick(r, [
        [0xff],
        [0xfe],
        [0x80],
        [0xc0, 0x80],
        [0xc3, 0x28],
        [0xe2, 0x82],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xf0, 0x9f, 0x98],
      ]);
      const marker = text.indexOf('\\u0001');
      const at = r() < 0.5 ? marker : int(r, 0, text.length);
      const body = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad), Buffer.from(text.slice(at + (at === marker ? 6 : 0)))]);
      return { kind: 'invalid UTF-8', method: 'POST', path: inferPath(r, model), headers: JSON_HEADERS, body, status: 400 };
    },
  ],
  // ---- wrong types at the top level ------------------------------------------------------------
  [
    'inputs not an array',
    30,
    (r) => {
      const inputs = pick(r, [undefined, null, 1, 'x', true, {}, { name: 'x' }, new Raw('123456789012345678901')]);
      return {
        kind: 'inputs not an array',
        method: 'POST',
        path: inferPath(r, pick(r, [TINY, ALL])),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
      };
    },
  ],
  [
    'inputs[i] not an object',
    30,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const { inputs, target } = goodRequest(r, model);
      inputs[target] = pick(r, [null, 1, 'x', true, [], [inputs[target]]]) as unknown as WireInput;
      return {
        kind: 'inputs[i] not an object',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
      };
    },
  ],
  [
    'id, parameters or outputs of the wrong type',
    40,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const body: Record<string, unknown> = { inputs: goodRequest(r, model).inputs };
      const which = int(r, 0, 4);
      if (which === 0) body.id = pick(r, [1, null, true, {}, [], new Raw('99999999999999999999')]);
      else if (which === 1) body.parameters = pick(r, [1, 'x', [], true]);
      else if (which === 2) body.parameters = { binary_data_output: pick(r, [1, 'true', null, {}]) };
      else if (which === 3) body.outputs = pick(r, [1, 'x', {}, true]);
      else body.outputs = [pick(r, [1, null, 'logits', {}, { name: 3 }, []])];
      return {
        kind: 'id, parameters or outputs of the wrong type',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson(body)),
        status: 400,
      };
    },
  ],
  [
    'unknown or repeated output',
    30,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const body: Record<string, unknown> = { inputs: goodRequest(r, model).inputs };
      const real = model === TINY ? 'logits' : `out_${pick(r, DATATYPES)}`;
      const which = int(r, 0, 2);
      const name = which === 0 ? pick(r, ['nope', 'LOGITS', '', 'out_FP8', 'x']) : real;
      if (which === 0) body.outputs = [{ name }];
      else if (which === 1) body.outputs = [{ name }, { name }];
      else body.outputs = [{ name, parameters: pick(r, [1, [], { binary_data: 'yes' }, { binary_data: 1 }]) }];
      return {
        kind: 'unknown or repeated output',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson(body)),
        status: 400,
        mention: `'${name}'`,
      };
    },
  ],
  // ---- names ------------------------------------------------------------------------------------
  [
    'name not a string',
    30,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const { inputs, target } = goodRequest(r, model);
      const name = pick(r, [undefined, null, 5, true, [], {}, ['x']]);
      if (name === undefined) delete inputs[target].name;
      else inputs[target].name = name;
      return {
        kind: 'name not a string',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
        mention: `inputs[${target}].name`,
      };
    },
  ],
  [
    'unknown input',
    40,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const { inputs, target } = goodRequest(r, model);
      const name = pick(r, ['y', 'X', '', 'x ', 'in_FP8', 'in_fp32', '__proto__', 'constructor', 'in_FP32\u0000', 'ünïcode']);
      inputs[target].name = name;
      return {
        kind: 'unknown input',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
        mention: `unknown input '${name}'`,
      };
    },
  ],
  [
    'duplicate input',
    30,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const { inputs, target } = goodRequest(r, model);
      inputs.splice(int(r, 0, inputs.length), 0, { ...inputs[target] });
      return {
        kind: 'duplicate input',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
        mention: `'${model.inputs[target][0]}' appears twice`,
      };
    },
  ],
  [
    'missing input',
    30,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const { inputs, target } = goodRequest(r, model);
      inputs.splice(target, 1);
      return {
        kind: 'missing input',
        method: 'POST',
        path: inferPath(r, model),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
        mention: `'${model.inputs[target][0]}'`,
      };
    },
  ],
  // ---- shapes -------------------------------------------------------------------------------------
  [
    'shape of the wrong type',
    40,
    (r) =>
      inputCase(r, 'shape of the wrong type', (input, _dt, inner) => {
        const shape = input.shape as number[];
        const bad = pick(r, [
          undefined,
          null,
          `${shape[0]},${inner}`,
          4,
          true,
          {},
          [String(shape[0]), String(inner)],
          [null, inner],
          [[shape[0]], inner],
          [true, inner],
          [shape[0], `${inner}`],
        ]);
        if (bad === undefined) delete input.shape;
        else input.shape = bad;
      }),
  ],
  [
    'shape negative, fractional or unsafe',
    50,
    (r) =>
      inputCase(r, 'shape negative, fractional or unsafe', (input, _dt, inner) => {
        const b = (input.shape as number[])[0];
        input.shape = pick(r, [
          [-1, inner],
          [b, -inner],
          [b + 0.5, inner],
          [b, inner + 0.25],
          [-0.5, inner],
          [new Raw('9007199254740993'), inner],
          [new Raw('123456789012345678901234567890'), inner],
          [b, new Raw('18446744073709551617')],
          [new Raw('1e400'), inner],
          [new Raw('-1e400'), inner],
          [new Raw('1E3'), inner],
        ]);
      }),
  ],
  [
    'shape huge',
    50,
    (r) =>
      inputCase(r, 'shape huge', (input, _dt, inner) => {
        input.shape = pick(r, [
          [1e12, inner],
          [2 ** 40, inner],
          [2 ** 40],
          [2 ** 30, inner],
          [2 ** 53 - 1, inner],
          [2 ** 26, inner],
          [1e15, inner],
          Array.from({ length: 17 }, () => 2),
          Array.from({ length: 64 }, () => 1e12),
          Array.from({ length: 3 }, () => 2 ** 40),
        ]);
      }),
  ],
  [
    'shape wrong rank or size',
    50,
    (r) =>
      inputCase(r, 'shape wrong rank or size', (input, _dt, inner) => {
        const b = (input.shape as number[])[0];
        input.shape = pick(r, [
          [b],
          [b * inner],
          [b, inner, 1],
          [1, b, inner],
          [],
          [b, inner + 1],
          [b, inner - 1],
          [b + 1, inner],
          [0, inner],
          [b, 0],
        ]);
      }),
  ],
  // ---- datatypes ------------------------------------------------------------------------------------
  [
    'datatype wrong or unknown',
    60,
    (r) =>
      inputCase(r, 'datatype wrong or unknown', (input, dt) => {
        const bad = pick(r, [
          otherDatatype(r, dt),
          dt.toLowerCase(),
          `${dt} `,
          'FP8',
          'INT128',
          'STRING',
          'float32',
          'TYPE_FP32',
          '',
          32,
          null,
          true,
          [],
          {},
          [dt],
          undefined,
          new Raw('12345678901234567890'),
        ]);
        if (bad === undefined) delete input.datatype;
        else input.datatype = bad;
      }),
  ],
  // ---- data -----------------------------------------------------------------------------------------
  [
    'data of the wrong type or missing',
    50,
    (r) =>
      inputCase(r, 'data of the wrong type or missing', (input) => {
        const bad = pick(r, [undefined, null, 1, '1,2,3,4', true, {}, { 0: 1 }]);
        if (bad === undefined) delete input.data;
        else input.data = bad;
      }),
  ],
  [
    'data too short or too long',
    60,
    (r) =>
      inputCase(r, 'data too short or too long', (input, dt) => {
        const data = input.data as unknown[];
        const which = int(r, 0, 3);
        if (which === 0) data.pop();
        else if (which === 1) data.push(goodValue(r, dt));
        else if (which === 2) input.data = [];
        else input.data = [...data, ...data];
      }),
  ],
  [
    'data nested wrongly',
    50,
    (r) =>
      inputCase(r, 'data nested wrongly', (input, dt, inner) => {
        const data = input.data as unknown[];
        const which = int(r, 0, 3);
        if (which === 0)
          input.data = [[data]]; // deeper than the shape's rank
        else if (which === 1) input.data = data.map((v) => [[v]]);
        else if (which === 2)
          input.data = [data[0], [data.slice(1)]]; // a flat start, then an array element
        else input.data = [data.slice(0, inner - 1), [data.slice(inner - 1)], goodValue(r, dt)];
      }),
  ],
  [
    'elements of the wrong kind',
    80,
    (r) =>
      inputCase(r, 'elements of the wrong kind', (input, dt) => {
        const data = input.data as unknown[];
        data[int(r, 0, data.length - 1)] = pick(r, wrongKindValues(dt));
      }),
  ],
  [
    'integers out of range',
    90,
    (r) => {
      const intTypes = DATATYPES.filter((d) => DATATYPE_INFO[d].json === 'integer');
      const dt = pick(r, intTypes);
      const { inputs } = goodRequest(r, ALL);
      const target = ALL.inputs.findIndex(([, d]) => d === dt);
      const data = inputs[target].data as unknown[];
      data[int(r, 0, data.length - 1)] = pick(r, outOfRange(dt));
      return {
        kind: 'integers out of range',
        method: 'POST',
        path: inferPath(r, ALL),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
        mention: `'in_${dt}'`,
      };
    },
  ],
  [
    'BOOL given numbers, BYTES given numbers',
    40,
    (r) => {
      const dt = pick(r, ['BOOL', 'BYTES'] as const);
      const { inputs } = goodRequest(r, ALL);
      const target = ALL.inputs.findIndex(([, d]) => d === dt);
      const data = inputs[target].data as unknown[];
      const all = r() < 0.5;
      for (let i = 0; i < data.length; i++) if (all || i === 0) data[i] = int(r, 0, 1);
      return {
        kind: 'BOOL given numbers, BYTES given numbers',
        method: 'POST',
        path: inferPath(r, ALL),
        headers: JSON_HEADERS,
        body: Buffer.from(toJson({ inputs })),
        status: 400,
        mention: `'in_${dt}'`,
      };
    },
  ],
  // ---- binary extension -----------------------------------------------------------------------------
  [
    'bad Inference-Header-Content-Length',
    50,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const json = Buffer.from(toJson({ inputs: goodRequest(r, model).inputs }));
      const body = Buffer.concat([json, Buffer.alloc(int(r, 0, 8))]);
      const header = pick(r, [
        'abc',
        '-1',
        '1.5',
        '',
        ' ',
        '1e3',
        '0x10',
        String(body.length + 1),
        String(body.length + 1e6),
        '99999999999999999999999',
        '0',
        '1',
        String(json.length - 1),
        `${json.length},${json.length}`,
      ]);
      return {
        kind: 'bad Inference-Header-Content-Length',
        method: 'POST',
        path: inferPath(r, model),
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': header },
        body,
        status: 400,
      };
    },
  ],
  [
    'bad json-header-size in the SageMaker content type',
    20,
    (r) => {
      const json = Buffer.from(toJson({ inputs: goodRequest(r, TINY).inputs }));
      const type = pick(r, [
        'application/vnd.sagemaker-triton.binary+json',
        'application/vnd.sagemaker-triton.binary+json;json-header-size=abc',
        `application/vnd.sagemaker-triton.binary+json;json-header-size=${json.length + 5}`,
        'application/vnd.sagemaker-triton.binary+json;json-header-size=-4',
        'application/vnd.sagemaker-triton.binary+json;json-header-size=0',
      ]);
      return {
        kind: 'bad json-header-size in the SageMaker content type',
        method: 'POST',
        path: inferPath(r, TINY),
        headers: { 'content-type': type },
        body: json,
        status: 400,
      };
    },
  ],
  [
    'binary_data_size mismatch',
    80,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const { inputs, target } = goodRequest(r, model);
      const [name, dt] = model.inputs[target];
      const input = inputs[target];
      const count = (input.shape as number[]).reduce((a, b) => a * b, 1);
      const size = dt === 'BYTES' ? 0 : count * DATATYPE_INFO[dt].size;
      let blob: Buffer = Buffer.alloc(size, dt === 'BOOL' ? 1 : 7);
      delete input.data;
      const which = int(r, 0, 6);
      let declared: unknown = blob.length;
      if (which === 0)
        declared = blob.length + int(r, 1, 64); // runs past the end of the body
      else if (which === 1 && dt !== 'BYTES') {
        declared = blob.length - 1;
        blob = blob.subarray(0, blob.length - 1);
      } // too few bytes for the shape
      else if (which === 1) {
        blob = Buffer.from([5, 0, 0, 0, 0x61]);
        declared = blob.length;
      } // BYTES element longer than what remains
      else if (which === 2) declared = pick(r, [-1, 1.5, '8', null, true, [], new Raw('36893488147419103232')]);
      else if (which === 3)
        input.data = [1]; // both data and binary_data_size
      else if (which === 4 && dt === 'BOOL')
        blob = Buffer.alloc(size, 2); // a BOOL byte that is neither 0 nor 1
      else if (which === 4 && dt === 'BYTES') {
        blob = Buffer.from([1, 0, 0, 0, 0xff]);
        declared = 5;
      } // invalid UTF-8 in an element
      else if (which === 4) {
        blob = Buffer.concat([blob, Buffer.alloc(DATATYPE_INFO[dt].size)]);
        declared = blob.length;
      } // one element too many
      else if (which === 5) {
        blob = Buffer.alloc(0);
        declared = 0;
      } // no bytes at all for a tensor of at least 2 elements
      else {
        // binary_data_size without Inference-Header-Content-Length
        input.parameters = { binary_data_size: declared };
        return {
          kind: 'binary_data_size mismatch',
          method: 'POST',
          path: inferPath(r, model),
          headers: JSON_HEADERS,
          body: Buffer.from(toJson({ inputs })),
          status: 400,
          mention: `'${name}'`,
        };
      }
      input.parameters = { binary_data_size: declared };
      const json = Buffer.from(toJson({ inputs }));
      return {
        kind: 'binary_data_size mismatch',
        method: 'POST',
        path: inferPath(r, model),
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
        body: Buffer.concat([json, blob]),
        status: 400,
        mention: `'${name}'`,
      };
    },
  ],
  [
    'binary trailing bytes',
    30,
    (r) => {
      const model = pick(r, [TINY, ALL]);
      const json = Buffer.from(toJson({ inputs: goodRequest(r, model).inputs }));
      const trailing = Buffer.from(Array.from({ length: int(r, 1, 40) }, () => int(r, 0, 255)));
      return {
        kind: 'binary trailing bytes',
        method: 'POST',
        path: inferPath(r, model),
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
        body: Buffer.concat([json, trailing]),
        status: 400,
      };
    },
  ],
  // ---- body size, methods, routes -------------------------------------------------------------------
  [
    'body over the limit (Content-Length)',
    30,
    (r) => {
      const body = Buffer.alloc(LIMIT + int(r, 1, 2 * LIMIT), pick(r, [0x20, 0x7b, 0x31]));
      return {
        kind: 'body over the limit (Content-Length)',
        method: 'POST',
        path: inferPath(r, pick(r, [TINY, ALL])),
        headers: JSON_HEADERS,
        body,
        status: 413,
      };
    },
  ],
  [
    'body over the limit (chunked)',
    30,
    (r) => {
      const chunk = int(r, 1024, 32 * 1024);
      const n = Math.ceil((LIMIT + int(r, 1, LIMIT)) / chunk);
      const chunks = Array.from({ length: n }, () => Buffer.alloc(chunk, 0x31));
      return {
        kind: 'body over the limit (chunked)',
        method: 'POST',
        path: inferPath(r, pick(r, [TINY, ALL])),
        headers: JSON_HEADERS,
        chunks,
        status: 413,
      };
    },
  ],
  [
    'wrong method',
    60,
    (r) => {
      const [path, allowed] = pick(r, [
        ['/v2/models/tiny-mlp/infer', 'POST'],
        ['/v2/models/all-types/versions/1.0.0/infer', 'POST'],
        ['/v2/models/tiny-mlp', 'GET'],
        ['/v2/models/all-types/ready', 'GET'],
        ['/v2/health/live', 'GET'],
        ['/v2/health/ready', 'GET'],
        ['/v2', 'GET'],
      ] as const);
      const method = pick(
        r,
        allowed === 'POST' ? ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] : ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      );
      const body = method === 'GET' || method === 'OPTIONS' ? undefined : Buffer.from(toJson({ inputs: goodRequest(r, TINY).inputs }));
      return { kind: 'wrong method', method, path, headers: JSON_HEADERS, body, status: 405 };
    },
  ],
  [
    'unknown model, version or route',
    60,
    (r) => {
      const path = pick(r, [
        `/v2/models/model-${int(r, 0, 9999)}/infer`,
        `/v2/models/model-${int(r, 0, 9999)}`,
        `/v2/models/Tiny-MLP/ready`,
        `/v2/models/tiny-mlp/versions/${int(r, 2, 9)}.0.0/infer`,
        `/v2/models/all-types/versions/1.0/infer`,
        '/v2/models/tiny-mlp/explain',
        '/index.html',
        '/v1/models/tiny-mlp:predict',
        '/v2/models',
        '/v2/models/',
        '/v2/health',
        '/v2/models/tiny-mlp/infer/extra',
        '/v2/models/%74iny-mlp2/infer',
      ]);
      const method = path.endsWith('/infer') ? 'POST' : 'GET';
      const body = method === 'POST' ? Buffer.from(toJson({ inputs: goodRequest(r, TINY).inputs })) : undefined;
      return { kind: 'unknown model, version or route', method, path, headers: JSON_HEADERS, body, status: 404 };
    },
  ],
  [
    'bad percent-encoding in the path',
    10,
    (r) => {
      const path = pick(r, [
        '/v2/models/%E0%A4%A/infer',
        '/v2/models/%zz/ready',
        '/v2/models/tiny-mlp/versions/%C3%28/infer',
        '/v2/models/%/infer',
      ]);
      return {
        kind: 'bad percent-encoding in the path',
        method: path.endsWith('/infer') ? 'POST' : 'GET',
        path,
        headers: JSON_HEADERS,
        body: Buffer.from('{}'),
        status: 400,
      };
    },
  ],
];

function generateCases(seed: number): Case[] {
  const r = seededRandom(seed);
  const cases: Case[] = [];
  for (const [, count, make] of CASE_GENERATORS) for (let i = 0; i < count; i++) cases.push(make(r));
  return cases;
}

/** What is wrong with an answer to a case; undefined when it is right. */
function problemWith(c: Case, a: HttpAnswer): string | undefined {
  if (a.status !== c.status) return `status ${a.status}, expected ${c.status}`;
  if (!String(a.headers['content-type']).startsWith('application/json')) return `content-type ${a.headers['content-type']}`;
  const j = a.json;
  if (typeof j !== 'object' || j === null || Array.isArray(j) || Object.keys(j).join() !== 'error') return 'body is not {"error": ...}';
  const message = errorMessage(a);
  if (message === undefined || message.trim() === '') return 'error message is empty';
  if (/\ba undefined\b|\[object Object\]|internal error/.test(message)) return `error message is garbled: ${message}`;
  if (c.mention !== undefined && !message.includes(c.mention)) return `error does not name ${c.mention}`;
  return undefined;
}

let parent: string;
let tiny: FixturePackage;
let allTypes: FixturePackage;
let running: RunningServer;
const log: AccessLogLine[] = [];

function golden(pkg: FixturePackage): { request: string; outputs: unknown } {
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'modelship.json'), 'utf8')) as Manifest;
  return {
    request: readFileSync(join(pkg.dir, manifest.samples[0].request), 'utf8'),
    outputs: (JSON.parse(readFileSync(join(pkg.dir, manifest.samples[0].response), 'utf8')) as { outputs: unknown }).outputs,
  };
}

beforeAll(async () => {
  parent = tempDir('modelship-bad-input-');
  tiny = await makeTinyMlpPackage(parent);
  allTypes = await makeAllTypesPackage(parent);
  running = await startServer({
    dirs: [tiny.dir, allTypes.dir],
    port: 0,
    config: parseServerConfig({
      plans: { open: { rateLimit: 1_000_000, burstLimit: 1_000_000 } },
      apiKeys: [{ name: 'fuzzer', value: KEY, plan: 'open' }],
      maxBodyBytes: LIMIT,
      // Hundreds of requests back to back: the default stage throttle (100/s, burst 200) would refuse some.
      throttle: { rateLimit: 1_000_000, burstLimit: 1_000_000 },
    }),
    onRequest: (line) => log.push(line),
  });
});

afterAll(() => running.close());

test('GIVEN the seeded generator THEN it makes at least 1,000 cases, the same ones on every run', () => {
  const a = generateCases(2024);
  const b = generateCases(2024);
  expect(a.length).toBe(CASE_GENERATORS.reduce((n, [, count]) => n + count, 0));
  expect(a.length).toBeGreaterThanOrEqual(1000);
  expect(a.map((c) => [c.path, c.method, c.body?.toString('base64')])).toEqual(
    b.map((c) => [c.path, c.method, c.body?.toString('base64')]),
  );
  // Every kind of fault is represented, and a third of the cases name an input or output at fault.
  expect(new Set(a.map((c) => c.kind)).size).toBe(CASE_GENERATORS.length);
  expect(a.filter((c) => c.mention !== undefined).length).toBeGreaterThan(a.length / 3);
});

test('GIVEN a running server WHEN every malformed request is sent over keep-alive THEN each gets its exact 4xx with a JSON error, none a 5xx, and good requests still work', async () => {
  // GIVEN the server answers its golden samples before the storm
  const goldens = [golden(tiny), golden(allTypes)];
  const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
  for (const [pkg, g] of [
    [tiny, goldens[0]],
    [allTypes, goldens[1]],
  ] as const) {
    const before = await send(`${running.url}/v2/models/${pkg.name}/infer`, { headers, body: g.request });
    expect(before.status).toBe(200);
    expect((before.json as { outputs: unknown }).outputs).toEqual(g.outputs);
  }
  const cases = generateCases(2024);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const logged = log.length;
  let answers: HttpAnswer[];
  try {
    // WHEN
    answers = await runPool(
      cases.map(
        (c) => () =>
          send(`${running.url}${c.path}`, {
            method: c.method,
            headers: { ...c.headers, 'x-api-key': KEY },
            body: c.body,
            chunks: c.chunks,
            agent,
          }),
      ),
      CONCURRENCY,
    );
  } finally {
    agent.destroy();
  }

  // THEN every answer is the right 4xx with a JSON error that names what it should
  const problems: string[] = [];
  cases.forEach((c, i) => {
    const why = problemWith(c, answers[i]);
    if (why !== undefined) {
      problems.push(
        `#${i} ${c.kind} ${c.method} ${c.path}: ${why}\n    error: ${answers[i].body.toString('utf8').slice(0, 300)}\n    sent: ${(c.body ?? Buffer.alloc(0)).toString('utf8').slice(0, 300)}`,
      );
    }
  });
  expect(problems.slice(0, 15).join('\n')).toBe('');
  expect(problems).toHaveLength(0);
  expect(answers.filter((a) => a.status >= 500)).toHaveLength(0);
  // The access log saw each request once, and no 5xx.
  const lines = log.slice(logged);
  expect(lines).toHaveLength(cases.length);
  expect(lines.filter((l) => l.status >= 500)).toHaveLength(0);
  // Keep-alive held: only 413s (whose unread bodies force a close) cost new connections.
  const closing = cases.filter((c) => c.status === 413).length;
  const connections = new Set(answers.map((a) => a.localPort)).size;
  expect(connections).toBeLessThanOrEqual(CONCURRENCY + closing);
  expect(answers.filter((a) => a.reusedSocket).length).toBeGreaterThanOrEqual(cases.length - CONCURRENCY - closing);

  // AND afterwards the same server still answers good requests exactly as recorded
  for (const [pkg, g] of [
    [tiny, goldens[0]],
    [allTypes, goldens[1]],
  ] as const) {
    const after = await send(`${running.url}/v2/models/${pkg.name}/infer`, { headers, body: g.request });
    expect(after.status).toBe(200);
    expect((after.json as { outputs: unknown }).outputs).toEqual(g.outputs);
  }
  expect((await send(`${running.url}/v2/health/ready`, { headers })).status).toBe(200);
});

describe('values at the edge of validity are accepted, not refused as malformed', () => {
  const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };

  test('GIVEN 64-bit integers at their exact limits WHEN sent as JSON THEN they come back exactly', async () => {
    const body = toJson({
      inputs: DATATYPES.map((d) => {
        const info = DATATYPE_INFO[d];
        const data: unknown[] =
          info.json === 'integer'
            ? [info.min, info.max].map((v) => (typeof v === 'bigint' ? new Raw(v.toString()) : v))
            : [goodValue(seededRandom(1), d), goodValue(seededRandom(2), d)];
        return { name: `in_${d}`, shape: [1, 2], datatype: d, data };
      }),
    });
    const r = await send(`${running.url}/v2/models/all-types/infer`, { headers, body });
    expect(r.status).toBe(200);
    const text = r.body.toString('utf8');
    expect(text).toContain('"name":"out_INT64","datatype":"INT64","shape":[1,2],"data":[-9223372036854775808,9223372036854775807]');
    expect(text).toContain('"name":"out_UINT64","datatype":"UINT64","shape":[1,2],"data":[0,18446744073709551615]');
    expect(text).toContain('"name":"out_UINT8","datatype":"UINT8","shape":[1,2],"data":[0,255]');
  });

  test('GIVEN an FP32 input holding an integer literal too long for a double to hold exactly WHEN sent THEN it is read as a number (200)', async () => {
    const body = toJson({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [new Raw('12345678901234567890'), 0, 0, 0] }] });
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers, body });
    expect(errorMessage(r)).toBeUndefined();
    expect(r.status).toBe(200);
  });

  test('GIVEN a batch of 0 rows WHEN sent THEN it is answered with empty outputs (200)', async () => {
    const body = toJson({ inputs: [{ name: 'x', shape: [0, 4], datatype: 'FP32', data: [] }] });
    const r = await send(`${running.url}/v2/models/tiny-mlp/infer`, { headers, body });
    expect(r.status).toBe(200);
    expect((r.json as { outputs: Array<{ shape: number[]; data: unknown[] }> }).outputs.map((o) => [o.shape, o.data])).toEqual([
      [[0, 3], []],
      [[0, 3], []],
    ]);
  });
});
