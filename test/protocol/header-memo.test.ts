/**
 * The fast decoder keeps the last all-binary request header per signature, and reuses what it decoded to
 * when the next header has the same bytes (lib/protocol/scan-request.ts, HeaderMemo). These tests hold a
 * reused header to the general decoder: each body's own tensors, the same errors for a binary section
 * that no longer fits, and the limits and content type of the request at hand rather than the first one's.
 * The encoder likewise copies the last all-binary answer header (lib/protocol/encode.ts), held here to an
 * answer encoded afresh.
 */
import { decodeInferRequest, decodeInferRequestGeneral } from '../../lib/protocol/decode';
import { encodeInferRequest } from '../../lib/protocol/client-codec';
import { encodeInferResponse } from '../../lib/protocol/encode';
import { DATATYPE_INFO } from '../../lib/protocol/datatypes';
import { BadRequestError } from '../../lib/protocol/errors';
import { DEFAULT_TENSOR_LIMITS } from '../../lib/protocol/limits';
import type { ModelSignature, Tensor } from '../../lib/protocol/types';
import { SeededRandom } from '../../lib/package/seeded-random';
import { outcome, SIGNATURES } from './request-bodies';

type Headers = Record<string, string>;

/** Random tensors for every input of a signature, each -1 dimension given `batch`. */
function tensors(r: SeededRandom, signature: ModelSignature, batch: number): Tensor[] {
  return signature.inputs.map((spec) => {
    const shape = spec.shape.map((d) => (d === -1 ? batch : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const info = DATATYPE_INFO[spec.datatype];
    if (spec.datatype === 'BYTES')
      return { name: spec.name, datatype: spec.datatype, shape, data: Array.from({ length: n }, (_, i) => `s${i}`) };
    const data = info.allocate(n) as Uint8Array;
    const bytes = new Uint8Array(data.buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
    if (spec.datatype === 'BOOL') for (let i = 0; i < n; i++) data[i] &= 1;
    return { name: spec.name, datatype: spec.datatype, shape, data: data as Tensor['data'] };
  });
}

/** The same header with other bytes after it: `edit` changes the binary section. */
function withBinary(body: Uint8Array, headers: Headers, edit: (binary: Buffer) => Buffer): Uint8Array {
  const headerLength = Number(headers['inference-header-content-length'] ?? /json-header-size=(\d+)/.exec(headers['content-type'])![1]);
  return Buffer.concat([body.subarray(0, headerLength), edit(Buffer.from(body.subarray(headerLength)))]);
}

const encode = (inputs: Tensor[], sagemaker = false) => encodeInferRequest(inputs, { binaryInputs: true, binaryOutputs: true, sagemaker });

describe('a repeated all-binary request header', () => {
  test('is decoded once and reused: the second request shares the first one decoded outputs', () => {
    const sig = SIGNATURES[0];
    const r = new SeededRandom(5);
    const first = encode(tensors(r, sig, 2));
    const second = withBinary(first.body, first.headers, (b) => Buffer.from(b.map(() => r.int(256))));
    const a = decodeInferRequest(first.body, first.headers, sig);
    const b = decodeInferRequest(second, first.headers, sig);
    expect(b.outputs).toBe(a.outputs);
    expect(b.inputs[0].data).not.toEqual(a.inputs[0].data);
    // A header that differs in one byte (another batch size) is decoded afresh.
    const other = encode(tensors(r, sig, 3));
    expect(decodeInferRequest(other.body, other.headers, sig).outputs).not.toBe(a.outputs);
  });

  test('2,400 bodies behind headers seen just before: each decodes to its own tensors, or to the general decoder error', () => {
    const r = new SeededRandom(11);
    const edits: [string, (b: Buffer) => Buffer][] = [
      ['the same bytes', (b) => b],
      ['other bytes', (b) => Buffer.from(b.map(() => r.int(256)))],
      ['one byte short', (b) => b.subarray(0, b.length - 1)],
      ['one byte more', (b) => Buffer.concat([b, Buffer.of(1)])],
      ['empty', () => Buffer.alloc(0)],
    ];
    let compared = 0;
    let errors = 0;
    for (let i = 0; i < 480; i++) {
      const sig = SIGNATURES[i % SIGNATURES.length];
      const first = encode(tensors(r, sig, 1 + r.int(3)), r.int(4) === 0);
      decodeInferRequest(first.body, first.headers, sig);
      for (const [how, edit] of edits) {
        const body = withBinary(first.body, first.headers, edit);
        const fast = outcome(() => decodeInferRequest(body, first.headers, sig));
        const general = outcome(() => decodeInferRequestGeneral(body, first.headers, sig));
        if ('error' in general) errors++;
        expect({ how, fast }).toEqual({ how, fast: general });
        compared++;
      }
    }
    expect(compared).toBe(2400);
    // Random bytes break BOOL and BYTES inputs, and the short, long and empty sections break every body.
    expect(errors).toBeGreaterThan(1400);
  });

  test('answers to the limits and the content type of the request at hand', () => {
    const sig = SIGNATURES[0];
    const r = new SeededRandom(7);
    const plain = encode(tensors(r, sig, 4));
    expect(decodeInferRequest(plain.body, plain.headers, sig).sagemaker).toBe(false);
    const tight = { ...DEFAULT_TENSOR_LIMITS, maxElements: 8 };
    expect(() => decodeInferRequest(plain.body, plain.headers, sig, tight)).toThrow(
      new BadRequestError("input 'pixels': shape [4,4] holds 16 elements, more than the limit of 8"),
    );
    const headerLength = plain.headers['inference-header-content-length'];
    const sagemaker = { 'content-type': `application/vnd.sagemaker-triton.binary+json;json-header-size=${headerLength}` };
    expect(decodeInferRequest(plain.body, sagemaker, sig).sagemaker).toBe(true);
    expect(decodeInferRequest(plain.body, plain.headers, sig).sagemaker).toBe(false);
  });
});

describe('a repeated all-binary answer header', () => {
  const result = (data: Float32Array, shape: number[], id?: string) => ({
    modelName: 'm',
    modelVersion: '1.0.0',
    id,
    outputs: [
      { name: 'probabilities', datatype: 'FP32' as const, shape, data },
      { name: 'label', datatype: 'INT64' as const, shape: [shape[0]], data: new BigInt64Array(shape[0]).fill(7n) },
    ],
  });
  const asked = Object.freeze([
    { name: 'probabilities', binary: true },
    { name: 'label', binary: true },
  ]);
  /** The same answer encoded afresh: a new outputs array is never the one the last header was written for. */
  const afresh = (r: ReturnType<typeof result>, sagemaker = false) =>
    encodeInferResponse(r, { outputs: asked.map((o) => ({ ...o })), sagemaker });

  test('is written once and copied after: same bytes and headers as an answer encoded afresh, each with its own data', () => {
    const r = new SeededRandom(3);
    const cases: [Float32Array, number[], string | undefined, boolean][] = [];
    for (let i = 0; i < 300; i++) {
      const batch = 1 + r.int(3);
      cases.push([
        Float32Array.from({ length: batch * 3 }, () => r.next()),
        [batch, 3],
        r.int(3) === 0 ? `id-${r.int(2)}` : undefined,
        r.int(4) === 0,
      ]);
    }
    let reused = 0;
    for (const [data, shape, id, sagemaker] of cases) {
      const first = encodeInferResponse(result(data, shape, id), { outputs: asked, sagemaker });
      const other = Float32Array.from(data, (v) => v + 1);
      const second = encodeInferResponse(result(other, shape, id), { outputs: asked, sagemaker });
      if (second.headers === first.headers) reused++;
      const fresh = afresh(result(other, shape, id), sagemaker);
      expect(Buffer.from(second.body as Uint8Array)).toEqual(Buffer.from(fresh.body as Uint8Array));
      expect(second.headers).toEqual(fresh.headers);
      expect(Buffer.from(first.body as Uint8Array)).toEqual(Buffer.from(afresh(result(data, shape, id), sagemaker).body as Uint8Array));
    }
    // Answers of other shapes, ids and content types one after another, as one client's requests come:
    // each must be what encoding it afresh gives.
    const expected = cases.map(([data, shape, id, sagemaker]) => afresh(result(data, shape, id), sagemaker));
    const got = cases.map(([data, shape, id, sagemaker]) => encodeInferResponse(result(data, shape, id), { outputs: asked, sagemaker }));
    expect(got.map((g) => [g.headers, Buffer.from(g.body as Uint8Array).toString('hex')])).toEqual(
      expected.map((e) => [e.headers, Buffer.from(e.body as Uint8Array).toString('hex')]),
    );
    // Every repeat of an answer reused its header object, so the comparison above ran on the copying path.
    expect(reused).toBe(300);
  });
});
