/**
 * ECDSA P-256 over a digest that is already computed, as AWS KMS signs and verifies with MessageType
 * DIGEST. node:crypto only signs messages (it hashes them itself), so the tests' stand-in for KMS does
 * the curve arithmetic here, in BigInt, with a real key exported from node:crypto. Its signatures are
 * DER, as KMS returns them, and node:crypto verifies them over the original message.
 */
import { type KeyObject, randomBytes } from 'node:crypto';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};

type Point = { x: bigint; y: bigint } | null;

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  // Extended Euclid: m is prime, a is non-zero mod m.
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(p: Point, q: Point): Point {
  if (p === null) return q;
  if (q === null) return p;
  if (p.x === q.x && mod(p.y + q.y, P) === 0n) return null;
  const lambda =
    p.x === q.x && p.y === q.y ? mod((3n * p.x * p.x + A) * inverse(2n * p.y, P), P) : mod((q.y - p.y) * inverse(q.x - p.x, P), P);
  const x = mod(lambda * lambda - p.x - q.x, P);
  return { x, y: mod(lambda * (p.x - x) - p.y, P) };
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let n = k; n > 0n; n >>= 1n) {
    if (n & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const toBig = (b: Buffer): bigint => BigInt(`0x${b.toString('hex') || '0'}`);
const fromJwk = (v: string | undefined): bigint => toBig(Buffer.from(v ?? '', 'base64url'));

function derInteger(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function parseDer(sig: Buffer): { r: bigint; s: bigint } | undefined {
  if (sig[0] !== 0x30 || sig[2] !== 0x02) return undefined;
  const rLen = sig[3];
  const r = toBig(sig.subarray(4, 4 + rLen));
  if (sig[4 + rLen] !== 0x02) return undefined;
  const sLen = sig[5 + rLen];
  return { r, s: toBig(sig.subarray(6 + rLen, 6 + rLen + sLen)) };
}

/** An ECDSA signature by `privateKey` over a 32-byte SHA-256 digest, DER-encoded. */
export function signDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = fromJwk(privateKey.export({ format: 'jwk' }).d);
  const z = toBig(Buffer.from(digest));
  for (;;) {
    const k = mod(toBig(randomBytes(32)), N);
    if (k === 0n) continue;
    const r = mod(multiply(k, G)!.x, N);
    const s = mod(inverse(k, N) * (z + r * d), N);
    if (r !== 0n && s !== 0n) return derSignature(r, s);
  }
}

/** Whether `sig` (DER) is `publicKey`'s ECDSA signature over the 32-byte digest. */
export function verifyDigest(publicKey: KeyObject, digest: Uint8Array, sig: Uint8Array): boolean {
  const parsed = parseDer(Buffer.from(sig));
  if (parsed === undefined) return false;
  const { r, s } = parsed;
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const jwk = publicKey.export({ format: 'jwk' });
  const q = { x: fromJwk(jwk.x), y: fromJwk(jwk.y) };
  const w = inverse(s, N);
  const point = add(multiply(mod(toBig(Buffer.from(digest)) * w, N), G), multiply(mod(r * w, N), q));
  return point !== null && mod(point.x, N) === r;
}
