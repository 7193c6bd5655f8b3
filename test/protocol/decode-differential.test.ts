import { decodeInferRequest, decodeInferRequestGeneral } from '../../lib/protocol/decode';
import { DEFAULT_TENSOR_LIMITS } from '../../lib/protocol/limits';
import { binaryHeaderLength } from '../../lib/protocol/content-type';
import { scanInferRequest } from '../../lib/protocol/scan-request';
import type { InferRequest, ModelSignature } from '../../lib/protocol/types';
import { SeededRandom } from '../../lib/package/seeded-random';
import { brokenBody, type GeneratedBody, type Outcome, outcome, SIGNATURES, validBody } from './request-bodies';

/** What the fast path alone makes of a body: a request, or undefined when it leaves the body to the general decoder. */
function scanned(g: GeneratedBody, signature: ModelSignature): InferRequest | undefined {
  let headerLength: number | undefined;
  try {
    headerLength = binaryHeaderLength(g.headers, g.body.byteLength);
  } catch {
    // A bad header length is refused before either decoder reads the body.
    return undefined;
  }
  const json = headerLength === undefined ? g.body : g.body.subarray(0, headerLength);
  const bytes = headerLength === undefined ? new Uint8Array(0) : g.body.subarray(headerLength);
  return scanInferRequest(json, { bytes, headerLength }, g.headers, signature, DEFAULT_TENSOR_LIMITS);
}

interface Tally {
  bodies: number;
  ordinary: number;
  errors: number;
  taken: number;
  mismatches: { how: string; body: string; fast: Outcome; general: Outcome }[];
  ordinaryLeft: { how: string; body: string }[];
}

function run(make: (r: SeededRandom, s: ModelSignature) => GeneratedBody, seed: number, count: number): Tally {
  const r = new SeededRandom(seed);
  const tally: Tally = { bodies: 0, ordinary: 0, errors: 0, taken: 0, mismatches: [], ordinaryLeft: [] };
  for (let i = 0; i < count; i++) {
    const signature = SIGNATURES[i % SIGNATURES.length];
    const g = make(r, signature);
    const fast = outcome(() => decodeInferRequest(g.body, g.headers, signature));
    const general = outcome(() => decodeInferRequestGeneral(g.body, g.headers, signature));
    const text = Buffer.from(g.body).toString('latin1').slice(0, 600);
    tally.bodies++;
    if ('error' in general) tally.errors++;
    if (JSON.stringify(fast) !== JSON.stringify(general)) tally.mismatches.push({ how: g.how, body: text, fast, general });
    const taken = scanned(g, signature) !== undefined;
    if (taken) tally.taken++;
    if (g.ordinary) {
      tally.ordinary++;
      if (!taken) tally.ordinaryLeft.push({ how: g.how, body: text });
    }
  }
  return tally;
}

describe('the fast JSON decoder against the general one', () => {
  test('4,000 valid bodies, written every way clients write them: same tensors bit for bit, and every ordinary one is taken by the fast path', () => {
    const tally = run(validBody, 1, 4000);
    expect(tally.mismatches.slice(0, 3)).toEqual([]);
    expect(tally.ordinaryLeft.slice(0, 3)).toEqual([]);
    // Enough of each kind that the comparison means something: most bodies ordinary, some not, few errors.
    expect(tally.ordinary).toBeGreaterThan(1500);
    expect(tally.bodies - tally.ordinary).toBeGreaterThan(500);
    expect(tally.taken).toBe(tally.ordinary);
  });

  test('6,000 broken bodies: the same status and the same error text, or the same request where the edit left it valid', () => {
    const tally = run(brokenBody, 2, 6000);
    expect(tally.mismatches.slice(0, 3)).toEqual([]);
    expect(tally.errors).toBeGreaterThan(4000);
    // Edits that leave a body valid (an extra member, a removed output) still go through the fast path.
    expect(tally.taken).toBeGreaterThan(30);
  });

  test('a request in error is never taken by the fast path', () => {
    const r = new SeededRandom(3);
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const signature = SIGNATURES[i % SIGNATURES.length];
      const g = brokenBody(r, signature);
      if ('error' in outcome(() => decodeInferRequestGeneral(g.body, g.headers, signature))) {
        checked++;
        if (scanned(g, signature) !== undefined)
          expect({ how: g.how, body: Buffer.from(g.body).toString('latin1') }).toBe('left to the general decoder');
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  test('known awkward bodies: escapes, exotic whitespace, 64-bit integers past 2^53, duplicate keys, ragged rows', () => {
    const sig = SIGNATURES[1];
    const input = (x: string, ids: string) =>
      `{"name":"x","datatype":"FP32","shape":[1,2,2],"data":${x}},{"name":"ids","datatype":"INT64","shape":[2],"data":${ids}},` +
      '{"name":"mask","datatype":"BOOL","shape":[0,2],"data":[]},{"name":"text","datatype":"BYTES","shape":[1],"data":["t"]}';
    const bodies = [
      `{"inputs":[${input('[[[1,2],[3,4]]]', '[9007199254740993,-9223372036854775808]')}]}`,
      `{"inputs":[${input('[1,2,3,4]', '[1,2]')}],"inputs":[${input('[5,6,7,8]', '[3,4]')}]}`,
      `{"\\u0069nputs":[${input('[[1,2,3,4]]', '[1,2]')}]}`,
      `{\u00a0"inputs":[${input('[1,2,3,4]', '[1,2]')}]}`,
      `\uFEFF{"inputs":[${input('[1,2,3,4]', '[1,2]')}]}`,
      `{"inputs":[${input('[[1,2],[3,4,5]]', '[1,2]')}]}`,
      `{"inputs":[${input('[1,2,3,4]', '[1.0,2e0]')}]}`,
      `{"inputs":[${input('[1,2,3,4]', '[18446744073709551615,0]')}]}`,
    ];
    for (const text of bodies) {
      const body = Buffer.from(text, 'utf8');
      const fast = outcome(() => decodeInferRequest(body, {}, sig));
      expect(fast).toEqual(outcome(() => decodeInferRequestGeneral(body, {}, sig)));
    }
    // The first keeps both 64-bit integers exact, which only the lossless parser can.
    const first = decodeInferRequest(Buffer.from(bodies[0]), {}, sig);
    expect(first.inputs[1].data).toEqual(BigInt64Array.of(9007199254740993n, -9223372036854775808n));
  });
});
