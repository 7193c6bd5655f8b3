import { decodeInferResponse, encodeInferRequest } from '../../lib/protocol/client-codec';
import { binaryHeaderLength } from '../../lib/protocol/content-type';
import { decodeInferRequest } from '../../lib/protocol/decode';
import type { ModelSignature } from '../../lib/protocol/types';
import { encodeInferResponse, jsonData } from '../../lib/protocol/encode';
import { BadRequestError } from '../../lib/protocol/errors';
import { halfBitsFromNumbers, numbersFromHalfBits } from '../../lib/protocol/fp16';
import { parseJson, stringifyJson } from '../../lib/protocol/json';

const SIG: ModelSignature = {
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    { name: 's', datatype: 'BYTES', shape: [-1] },
  ],
  outputs: [
    { name: 'y', datatype: 'FP32', shape: [-1, 2] },
    { name: 'z', datatype: 'INT64', shape: [-1] },
  ],
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('JSON with exact 64-bit integers', () => {
  test('integers past 2^53 parse as BigInt, others as numbers', () => {
    expect(parseJson('[9007199254740993, 9007199254740991, 1.5, -9223372036854775808]')).toEqual([
      9007199254740993n,
      9007199254740991,
      1.5,
      -9223372036854775808n,
    ]);
  });
  test('short bodies take the plain JSON.parse path and keep numbers', () => {
    expect(parseJson('{"a":[1,2]}')).toEqual({ a: [1, 2] });
  });
  test('stringify writes BigInt digits and escapes strings as JSON does', () => {
    expect(stringifyJson({ a: 18446744073709551615n, s: 'q"\u0000', t: new Float32Array([0.5]) })).toBe(
      '{"a":18446744073709551615,"s":"q\\"\\u0000","t":[0.5]}',
    );
  });
  test('invalid JSON is a 400 that says so', () => {
    expect(() => parseJson('{', 'request body')).toThrow(BadRequestError);
    expect(() => parseJson('{', 'request body')).toThrow(/request body is not valid JSON/);
  });
});

describe('FP16', () => {
  test('round-trips representable values and rounds others to the nearest half', () => {
    const bits = halfBitsFromNumbers([1.5, -2, 65504, 0.1, 1e6]);
    expect(Array.from(bits.slice(0, 3))).toEqual([0x3e00, 0xc000, 0x7bff]);
    expect(numbersFromHalfBits(bits)).toEqual([1.5, -2, 65504, 0.0999755859375, Infinity]);
  });
});

describe('decodeInferRequest', () => {
  test('decodes JSON inputs into typed arrays and keeps the id', () => {
    const r = decodeInferRequest(
      json({
        id: 'a',
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [1, 2], data: [[1, 2]] },
          { name: 's', datatype: 'BYTES', shape: [2], data: ['p', 'q'] },
        ],
      }),
      {},
      SIG,
    );
    expect(r.id).toBe('a');
    expect(r.inputs[0].data).toEqual(new Float32Array([1, 2]));
    expect(r.inputs[1].data).toEqual(['p', 'q']);
    expect(r.outputs).toEqual([
      { name: 'y', binary: false },
      { name: 'z', binary: false },
    ]);
  });

  test('binary_data_output asks for every output as binary; a per-output flag wins', () => {
    const body = {
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [0, 2], data: [] },
        { name: 's', datatype: 'BYTES', shape: [0], data: [] },
      ],
    };
    expect(decodeInferRequest(json(body), {}, SIG).outputs).toEqual([
      { name: 'y', binary: true },
      { name: 'z', binary: true },
    ]);
    const some = { ...body, outputs: [{ name: 'z', parameters: { binary_data: false } }] };
    expect(decodeInferRequest(json(some), {}, SIG).outputs).toEqual([{ name: 'z', binary: false }]);
  });

  test('reads binary tensor data after the JSON header, including length-prefixed BYTES', () => {
    const req = encodeInferRequest(
      [
        { name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([3, 4]) },
        { name: 's', datatype: 'BYTES', shape: [2], data: ['hé', ''] },
      ],
      { binaryInputs: true },
    );
    const r = decodeInferRequest(req.body, req.headers, SIG);
    expect(r.inputs[0].data).toEqual(new Float32Array([3, 4]));
    expect(r.inputs[1].data).toEqual(['hé', '']);
  });

  test.each([
    ['inputs missing', {}, /inputs must be an array, got nothing/],
    ['id not a string', { id: 5, inputs: [] }, /id must be a string, got a number/],
    ['parameters not an object', { parameters: [], inputs: [] }, /parameters must be an object, got an array/],
    ['input not an object', { inputs: [1] }, /inputs\[0\] must be an object, got a number/],
    ['name not a string', { inputs: [{ name: 1 }] }, /inputs\[0\]\.name must be a string/],
    [
      'duplicate input',
      {
        inputs: [
          { name: 's', datatype: 'BYTES', shape: [1], data: ['a'] },
          { name: 's', datatype: 'BYTES', shape: [1], data: ['a'] },
        ],
      },
      /input 's' appears twice/,
    ],
    [
      'bad datatype',
      { inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1, 2], data: [1, 2] }] },
      /input 'x': datatype "FLOAT" is not a v2 datatype/,
    ],
    [
      'negative dim',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2], data: [1, 2] }] },
      /input 'x': shape\[0\] must be a non-negative integer, got -1/,
    ],
    [
      'fractional dim',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [0.5, 2], data: [1, 2] }] },
      /input 'x': shape\[0\] must be a non-negative integer, got 0.5/,
    ],
    [
      'wrong rank',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] },
      /input 'x': shape \[2\] has 1 dimensions but the model expects 2/,
    ],
    [
      'data not array',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: 'ab' }] },
      /input 'x': data must be an array, got a string/,
    ],
    ['no data', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }] }, /input 'x' has no data/],
    [
      'string in FP32',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, '2'] }] },
      /input 'x': element 1 is a string; FP32 data must be numbers/,
    ],
    [
      'number in BYTES',
      { inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: [1] }] },
      /input 's': element 0 is 1; BYTES data must be strings/,
    ],
    [
      'nesting deeper than the shape',
      { inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: [['a']] }] },
      /input 's': data is nested deeper than its shape/,
    ],
    [
      'too many elements',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2, 3] }] },
      /input 'x': data holds 3 elements but shape \[1,2\] needs 2/,
    ],
    [
      'both data and binary',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2], parameters: { binary_data_size: 8 } }] },
      /input 'x' has both data and parameters.binary_data_size/,
    ],
    [
      'binary without header length',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }] },
      /input 'x' has binary_data_size but the request has no Inference-Header-Content-Length/,
    ],
    [
      'outputs not an array',
      {
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [0, 2], data: [] },
          { name: 's', datatype: 'BYTES', shape: [0], data: [] },
        ],
        outputs: {},
      },
      /outputs must be an array/,
    ],
    [
      'a float given as a huge integer literal is still a float',
      {
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 100000000000000000000] },
          { name: 's', datatype: 'BYTES', shape: [1], data: [1] },
        ],
      },
      /input 's': element 0 is 1/,
    ],
    [
      'duplicate output',
      {
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [0, 2], data: [] },
          { name: 's', datatype: 'BYTES', shape: [0], data: [] },
        ],
        outputs: [{ name: 'y' }, { name: 'y' }],
      },
      /output 'y' is requested twice/,
    ],
  ])('400 when %s', (_what, body, message) => {
    expect(() => decodeInferRequest(json(body), {}, SIG)).toThrow(message);
  });

  test('400 for invalid UTF-8 in the JSON', () => {
    const body = Buffer.concat([
      Buffer.from('{"inputs":[{"name":"s","datatype":"BYTES","shape":[1],"data":["'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"]}]}'),
    ]);
    expect(() => decodeInferRequest(body, {}, SIG)).toThrow(/request body is not valid UTF-8/);
  });

  test('a genuine U+FFFD in the JSON is accepted', () => {
    const r = decodeInferRequest(
      json({
        inputs: [
          { name: 's', datatype: 'BYTES', shape: [1], data: ['\uFFFD'] },
          { name: 'x', datatype: 'FP32', shape: [0, 2], data: [] },
        ],
      }),
      {},
      SIG,
    );
    expect(r.inputs[0].data).toEqual(['\uFFFD']);
  });

  test('binary section errors name the input and the byte counts', () => {
    const req = encodeInferRequest(
      [
        { name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([3, 4]) },
        { name: 's', datatype: 'BYTES', shape: [1], data: ['a'] },
      ],
      { binaryInputs: true },
    );
    const short = req.body.subarray(0, req.body.length - 2);
    expect(() => decodeInferRequest(short, req.headers, SIG)).toThrow(
      /input 's': binary_data_size 5 runs past the end of the body \(3 bytes remain\)/,
    );
    const extra = Buffer.concat([req.body, Buffer.from([1, 2, 3])]);
    expect(() => decodeInferRequest(extra, req.headers, SIG)).toThrow(/3 bytes of binary data that no input claims/);
    expect(() => decodeInferRequest(req.body, { 'inference-header-content-length': 'abc' }, SIG)).toThrow(
      /Inference-Header-Content-Length must be a non-negative integer, got "abc"/,
    );
    expect(() => decodeInferRequest(req.body, { 'inference-header-content-length': '99999' }, SIG)).toThrow(
      /Inference-Header-Content-Length is 99999 but the body has only/,
    );
  });
});

describe('content types', () => {
  test("SageMaker's json-header-size marks the header length", () => {
    expect(binaryHeaderLength({ 'content-type': 'application/vnd.sagemaker-triton.binary+json;json-header-size=12' }, 20)).toBe(12);
    expect(binaryHeaderLength({ 'content-type': 'application/vnd.sagemaker-triton.binary+json; json-header-size=7; charset=x' }, 20)).toBe(
      7,
    );
    expect(() => binaryHeaderLength({ 'content-type': 'application/vnd.sagemaker-triton.binary+json' }, 20)).toThrow(
      /needs a json-header-size parameter/,
    );
    expect(binaryHeaderLength({ 'content-type': 'application/json' }, 20)).toBeUndefined();
  });
});

describe('encodeInferResponse', () => {
  const result = {
    modelName: 'm',
    modelVersion: '1.0.0',
    id: 'q',
    outputs: [
      { name: 'y', datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array([NaN, 2]) },
      { name: 'z', datatype: 'INT64' as const, shape: [1], data: new BigInt64Array([-9223372036854775808n]) },
    ],
  };

  test('JSON: non-finite floats become null, 64-bit integers stay exact, requested order is kept', () => {
    const res = encodeInferResponse(result, {
      outputs: [
        { name: 'z', binary: false },
        { name: 'y', binary: false },
      ],
      sagemaker: false,
    });
    expect(res.headers).toEqual({ 'content-type': 'application/json' });
    expect(res.body).toBe(
      '{"model_name":"m","model_version":"1.0.0","id":"q","outputs":[{"name":"z","datatype":"INT64","shape":[1],"data":[-9223372036854775808]},{"name":"y","datatype":"FP32","shape":[1,2],"data":[null,2]}]}',
    );
  });

  test('binary: the header length is announced and the bytes follow in order', () => {
    const res = encodeInferResponse(result, {
      outputs: [
        { name: 'y', binary: true },
        { name: 'z', binary: false },
      ],
      sagemaker: false,
    });
    const body = res.body as Uint8Array;
    const n = Number(res.headers['inference-header-content-length']);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(body.byteLength).toBe(n + 8);
    const back = decodeInferResponse(body, res.headers);
    expect(Number.isNaN((back.outputs[0].data as Float32Array)[0])).toBe(true);
    expect(back.outputs[1].data).toEqual(new BigInt64Array([-9223372036854775808n]));
  });

  test('BOOL and FP16 JSON', () => {
    expect(jsonData({ datatype: 'BOOL', data: new Uint8Array([1, 0]) })).toBe('[true,false]');
    expect(jsonData({ datatype: 'FP16', data: halfBitsFromNumbers([0.5, -1]) })).toBe('[0.5,-1]');
  });
});

describe('binary tensor data in place', () => {
  const values = new Float32Array([1.5, -2, 3.25, 4]);
  const sig: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [] };

  test('the client pads the JSON header to 8 bytes, and the server then reads the tensor in place, without a copy', () => {
    const req = encodeInferRequest([{ name: 'x', datatype: 'FP32', shape: [2, 2], data: values }], { binaryInputs: true });
    const headerLength = Number(req.headers['inference-header-content-length']);
    expect(headerLength % 8).toBe(0);
    expect(JSON.parse(Buffer.from(req.body.subarray(0, headerLength)).toString('utf8'))).toMatchObject({ inputs: [{ name: 'x' }] });
    const data = decodeInferRequest(req.body, req.headers, sig).inputs[0].data as Float32Array;
    expect(data).toEqual(values);
    expect(data.buffer).toBe(req.body.buffer);
  });

  test('a tensor that starts unaligned is copied into an array of its own, with the same values', () => {
    const header = Buffer.from('{"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"parameters":{"binary_data_size":16}}]}');
    expect(header.length % 4).not.toBe(0);
    const body = Buffer.concat([header, Buffer.from(values.buffer)]);
    const data = decodeInferRequest(body, { 'inference-header-content-length': String(header.length) }, sig).inputs[0].data as Float32Array;
    expect(data).toEqual(values);
    expect(data.buffer).not.toBe(body.buffer);
  });
});
