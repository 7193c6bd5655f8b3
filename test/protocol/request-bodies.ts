/**
 * Seeded infer request bodies for the differential decoder test: valid ones in the many ways clients
 * write them, and broken ones made from those. Each body says whether it is *ordinary*, that is, written
 * the way the fast decoder is meant to take (scan-request.ts): the test holds the fast decoder to taking
 * every ordinary body, as well as to answering every body exactly as the general decoder does.
 */
import { DATATYPE_INFO, type Datatype } from '../../lib/protocol/datatypes';
import { SeededRandom } from '../../lib/package/seeded-random';
import { ProtocolError } from '../../lib/protocol/errors';
import type { InferRequest, ModelSignature, TensorMetadata } from '../../lib/protocol/types';

/** A JSON value as text to be: objects keep their members' raw key text, so keys can carry escapes. */
type Json = { readonly obj: [string, Json][] } | { readonly arr: Json[] } | { readonly raw: string };

export interface GeneratedBody {
  readonly body: Uint8Array;
  readonly headers: Record<string, string>;
  /** Valid, and written the way the fast decoder takes (see the module comment). */
  readonly ordinary: boolean;
  /** What was done to it, for failure messages. */
  readonly how: string;
}

export const SIGNATURES: readonly ModelSignature[] = [
  {
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 4] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
  },
  {
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [-1, 2, 2] },
      { name: 'ids', datatype: 'INT64', shape: [-1] },
      { name: 'mask', datatype: 'BOOL', shape: [-1, 2] },
      { name: 'text', datatype: 'BYTES', shape: [-1] },
    ],
    outputs: [
      { name: 'y', datatype: 'FP32', shape: [-1] },
      { name: 'z', datatype: 'INT64', shape: [-1] },
    ],
  },
  {
    inputs: [
      { name: 'h', datatype: 'FP16', shape: [2, -1] },
      { name: 'd', datatype: 'FP64', shape: [-1] },
      { name: 'u8', datatype: 'UINT8', shape: [-1] },
      { name: 'i8', datatype: 'INT8', shape: [3] },
      { name: 'u16', datatype: 'UINT16', shape: [-1] },
      { name: 'i16', datatype: 'INT16', shape: [-1] },
      { name: 'u32', datatype: 'UINT32', shape: [-1] },
      { name: 'i32', datatype: 'INT32', shape: [-1, 1] },
      { name: 'u64', datatype: 'UINT64', shape: [-1] },
      { name: 'scalar', datatype: 'FP32', shape: [] },
      { name: 'é名', datatype: 'FP32', shape: [-1] },
    ],
    outputs: [{ name: 'out', datatype: 'FP32', shape: [-1] }],
  },
];

const str = (s: string): Json => ({ raw: JSON.stringify(s) });
const raw = (s: string): Json => ({ raw: s });

class Generator {
  ordinary = true;
  readonly notes: string[] = [];
  /** Whether this body may hold what the fast decoder leaves to the general one; most do not. */
  private readonly awkward: boolean;

  /** @param shortDigits keep digit runs under 16 in ordinary bodies (with a 64-bit input, longer ones are parsed losslessly) */
  constructor(
    readonly r: SeededRandom,
    private readonly shortDigits = false,
  ) {
    this.awkward = this.chance(0.35);
  }

  chance(p: number): boolean {
    return this.r.next() < p;
  }

  /** A chance of something unusual: only in awkward bodies. */
  oddly(p: number): boolean {
    return this.awkward && this.chance(p);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.r.int(items.length)];
  }

  /** Marks the body as one the fast decoder is meant to leave to the general one. */
  unusual(why: string): void {
    this.ordinary = false;
    this.notes.push(why);
  }

  /** A key's JSON text: now and then with an escape, which JSON.parse reads as the same key. */
  key(name: string): string {
    if (name.length > 0 && this.oddly(0.05)) {
      this.unusual('escaped key');
      const c = name.charCodeAt(0).toString(16).padStart(4, '0');
      return `"\\u${c}${JSON.stringify(name).slice(2)}`;
    }
    return JSON.stringify(name);
  }

  stringValue(): Json {
    const plain = ['', 'a', 'hello world', 'héllo', '日本語', '😀', 'tab\there'.replace('\t', ' '), '0123456789'];
    if (this.oddly(0.2)) {
      this.unusual('escape in a string');
      return raw(this.pick(['"a\\nb"', '"q\\"uote"', '"\\u00e9"', '"back\\\\slash"', '"\\ud83d\\ude00"']));
    }
    if (this.oddly(0.05)) {
      this.unusual('a genuine U+FFFD');
      return str('\uFFFD');
    }
    return str(this.pick(plain));
  }

  /** A float's JSON text in one of the many ways clients write floats. */
  floatText(): string {
    const text = this.anyFloatText();
    if (!this.shortDigits || this.awkward || !/\d{16}/.test(text)) return text;
    return Number(text).toPrecision(1 + this.r.int(15));
  }

  private anyFloatText(): string {
    const r = this.r;
    const x = r.uniform(-1, 1) * 10 ** r.int(8) * (this.chance(0.3) ? 10 ** -r.int(12) : 1);
    switch (r.int(16)) {
      case 0:
        return '0';
      case 1:
        return '-0';
      case 2:
        return String(r.int(2000) - 1000);
      case 3:
        return String(Math.fround(x));
      case 4:
        return x.toPrecision(1 + r.int(17));
      case 5:
        return x
          .toExponential(r.int(12))
          .replace(/e\+/, this.chance(0.5) ? 'e+' : 'e')
          .replace('e', this.chance(0.3) ? 'E' : 'e');
      case 6: {
        // Longer than a double's 17 digits: only a correct parser gets the last bit right.
        let digits = String(1 + r.int(9));
        for (let i = 0, n = 18 + r.int(25); i < n; i++) digits += String(r.int(10));
        const point = 1 + r.int(digits.length - 1);
        return `${this.chance(0.5) ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}${this.chance(0.5) ? `e${r.int(80) - 40}` : ''}`;
      }
      case 7:
        return this.pick(['1e30', '3.4028235e38', '3.4028236e38', '1e39', '-1e39', '1e308', '1e400', '-1e400', '65504', '65520', '1e5']);
      case 8:
        return this.pick(['1e-40', '1.401298464324817e-45', '7e-46', '1e-46', '5e-324', '1e-400', '6e-8', '2.9802322387695312e-8']);
      case 9:
        return this.pick(['1.50000', '0.000001234', '100000000000000000000', '12345678901234567890.5', '0.10000000149011612']);
      case 10:
        // A float32 midpoint: JSON.parse's double lands exactly between two floats.
        return this.pick(['1.00000005960464477539062500', '0.500000029802322387695312', '16777217', '33554434', '1.0000000596046448']);
      default:
        return String(r.uniform(0, 1));
    }
  }

  integerText(datatype: Datatype): string {
    const info = DATATYPE_INFO[datatype];
    const min = Number(info.min);
    const max = Number(info.max);
    const r = this.r;
    if (info.bigint && this.oddly(0.2)) {
      // Past 2^53: exact only through the lossless parser.
      this.unusual('a 64-bit integer of 16 digits or more');
      return datatype === 'INT64' ? this.pick(['9223372036854775807', '-9223372036854775808', '9007199254740993']) : '18446744073709551615';
    }
    if (this.oddly(0.1)) {
      this.unusual('an integer written as a float');
      return this.pick(['1.0', '2e1', '-0.0', '3E0']);
    }
    if (this.chance(0.1)) return String(this.pick([min, max]));
    if (min < 0 && this.chance(0.05)) return '-0';
    const span = Math.min(max - min, 2 ** 40);
    return String(min + r.int(span + 1));
  }

  element(datatype: Datatype): Json {
    const info = DATATYPE_INFO[datatype];
    if (info.json === 'number') return raw(this.floatText());
    if (info.json === 'integer') return raw(this.integerText(datatype));
    if (info.json === 'boolean') return raw(this.chance(0.5) ? 'true' : 'false');
    return this.stringValue();
  }

  /** Row-major data for `shape`: flat, nested as the shape says, or (valid, but unusual) ragged rows that add up. */
  data(datatype: Datatype, shape: readonly number[]): Json {
    const count = shape.reduce((n, d) => n * d, 1);
    const flat = Array.from({ length: count }, () => this.element(datatype));
    if (shape.length < 2 || this.chance(0.3)) return { arr: flat };
    if (count > 0 && this.oddly(0.3)) {
      this.unusual('ragged nesting');
      const half = this.r.int(count + 1);
      return { arr: [{ arr: flat.slice(0, half) }, { arr: flat.slice(half) }] };
    }
    let i = 0;
    const nest = (level: number): Json =>
      level === shape.length - 1
        ? { arr: Array.from({ length: shape[level] }, () => flat[i++]) }
        : { arr: Array.from({ length: shape[level] }, () => nest(level + 1)) };
    return nest(0);
  }

  /** Any JSON value, for keys the protocol does not know. */
  anyValue(depth = 0): Json {
    switch (this.r.int(depth > 2 ? 4 : 6)) {
      case 0:
        return raw(this.floatText());
      case 1:
        return this.stringValue();
      case 2:
        return raw(this.pick(['true', 'false', 'null']));
      case 3:
        return raw(String(this.r.int(100)));
      case 4:
        return { arr: Array.from({ length: this.r.int(4) }, () => this.anyValue(depth + 1)) };
      default:
        return { obj: Array.from({ length: this.r.int(3) }, (_, i): [string, Json] => [this.key(`k${i}`), this.anyValue(depth + 1)]) };
    }
  }

  /** A different value of the same kind, often still valid: another input's name, a changed number, a flipped flag. */
  variant(v: Json, signature: ModelSignature): Json {
    if ('raw' in v) {
      if (v.raw === 'true' || v.raw === 'false') return raw(v.raw === 'true' ? 'false' : 'true');
      if (/^-?\d+$/.test(v.raw)) return raw(String(Number(v.raw) + 1));
      if (v.raw.startsWith('"'))
        return str(this.pick([...signature.inputs.map((i) => i.name), ...signature.outputs.map((o) => o.name), 'FP32', 'INT64', 'other']));
      return v;
    }
    if ('arr' in v) return { arr: v.arr.map((x, i) => (i === 0 ? this.variant(x, signature) : x)) };
    return { obj: v.obj.map(([k, x], i): [string, Json] => [k, i === 0 ? this.variant(x, signature) : x]) };
  }

  /** Adds members the protocol does not know, which both decoders must ignore. */
  extras(members: [string, Json][]): void {
    if (this.chance(0.15))
      members.splice(this.r.int(members.length + 1), 0, [
        this.key(this.pick(['extra', 'contents', '__proto__', 'x-trace'])),
        this.anyValue(),
      ]);
  }

  input(spec: TensorMetadata, binary: Uint8Array[] | undefined): Json {
    const shape = spec.shape.map((d) => (d === -1 ? this.r.int(4) : d));
    const members: [string, Json][] = [
      [this.key('name'), str(spec.name)],
      [this.key('datatype'), str(spec.datatype)],
      [this.key('shape'), { arr: shape.map((d) => raw(String(d))) }],
    ];
    if (this.oddly(0.1)) {
      this.unusual('a shape dimension written as a float');
      members[2] = [members[2][0], { arr: shape.map((d) => raw(`${d}.0`)) }];
    }
    if (binary && spec.datatype !== 'BYTES') {
      const count = shape.reduce((n, d) => n * d, 1);
      const info = DATATYPE_INFO[spec.datatype];
      const bytes = new Uint8Array(count * info.size);
      for (let i = 0; i < bytes.length; i++) bytes[i] = spec.datatype === 'BOOL' ? this.r.int(2) : this.r.int(256);
      binary.push(bytes);
      members.push([this.key('parameters'), { obj: [[this.key('binary_data_size'), raw(String(bytes.length))]] }]);
    } else {
      members.push([this.key('data'), this.data(spec.datatype, shape)]);
      if (this.chance(0.05)) members.push([this.key('parameters'), { obj: [] }]);
    }
    if (this.oddly(0.3)) {
      this.r.shuffle(members);
      const at = (key: string) => members.findIndex(([k]) => JSON.parse(k) === key);
      const dataAt = at('data');
      if (dataAt >= 0 && ['name', 'datatype', 'shape'].some((k) => at(k) > dataAt)) this.unusual('data before name, datatype or shape');
    }
    this.extras(members);
    return { obj: members };
  }

  request(signature: ModelSignature, binaryInputs: boolean): { tree: Json; binary: Uint8Array[] } {
    const binary: Uint8Array[] = [];
    const inputs = this.r
      .shuffle([...signature.inputs])
      .map((spec) => this.input(spec, binaryInputs && this.chance(0.6) ? binary : undefined));
    const members: [string, Json][] = [];
    if (this.chance(0.3)) members.push([this.key('id'), this.chance(0.9) ? str(`req-${this.r.int(1000)}`) : this.stringValue()]);
    if (this.chance(0.3)) {
      const params: [string, Json][] = [[this.key('binary_data_output'), raw(this.chance(0.5) ? 'true' : 'false')]];
      this.extras(params);
      members.push([this.key('parameters'), { obj: params }]);
    }
    members.push([this.key('inputs'), { arr: inputs }]);
    if (this.chance(0.4)) {
      const outputs = this.r.shuffle([...signature.outputs]).slice(0, 1 + this.r.int(signature.outputs.length));
      members.push([
        this.key('outputs'),
        {
          arr: outputs.map((o) => {
            const m: [string, Json][] = [[this.key('name'), str(o.name)]];
            if (this.chance(0.4))
              m.push([this.key('parameters'), { obj: [[this.key('binary_data'), raw(this.chance(0.5) ? 'true' : 'false')]] }]);
            this.extras(m);
            return { obj: m };
          }),
        },
      ]);
    }
    this.extras(members);
    if (this.chance(0.2)) this.r.shuffle(members);
    return { tree: { obj: members }, binary };
  }
}

/** JSON whitespace in one of several styles, all of it the four characters JSON allows. */
function emit(v: Json, style: number, r: SeededRandom, indent = ''): string {
  const ws = () => (style === 0 ? '' : style === 1 ? ' ' : style === 2 ? '\n' + indent + '  ' : [' ', '\t', '\n', '\r\n', ''][r.int(5)]);
  if ('raw' in v) return v.raw;
  const inner = indent + '  ';
  if ('arr' in v)
    return `[${v.arr.map((x) => ws() + emit(x, style, r, inner)).join(',')}${style === 2 && v.arr.length ? '\n' + indent : ''}]`;
  return `{${v.obj.map(([k, x]) => `${ws()}${k}${style === 3 ? ws() : ''}:${style ? ws() : ''}${emit(x, style, r, inner)}`).join(',')}${style === 2 && v.obj.length ? '\n' + indent : ''}}`;
}

/** Every member and element of a tree, with a way to replace or remove it. */
function slots(v: Json, out: { parent: Json[] | [string, Json][]; index: number }[] = []): typeof out {
  if ('arr' in v) v.arr.forEach((x, i) => (out.push({ parent: v.arr, index: i }), slots(x, out)));
  if ('obj' in v) v.obj.forEach(([, x], i) => (out.push({ parent: v.obj, index: i }), slots(x, out)));
  return out;
}

function frame(
  header: Uint8Array,
  binary: readonly Uint8Array[],
  sagemaker: boolean,
): { body: Uint8Array; headers: Record<string, string> } {
  if (binary.length === 0 && !sagemaker) return { body: header, headers: { 'content-type': 'application/json' } };
  const headers: Record<string, string> = sagemaker
    ? { 'content-type': `application/vnd.sagemaker-triton.binary+json;json-header-size=${header.length}` }
    : { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };
  return { body: Buffer.concat([header, ...binary]), headers };
}

const hasBigIntInput = (signature: ModelSignature) => signature.inputs.some((i) => DATATYPE_INFO[i.datatype].bigint);

/** A valid body for `signature`. */
export function validBody(r: SeededRandom, signature: ModelSignature): GeneratedBody {
  const g = new Generator(r, hasBigIntInput(signature));
  const binaryInputs = g.chance(0.25);
  const { tree, binary } = g.request(signature, binaryInputs);
  const json = emit(tree, r.int(4), r);
  // With a 64-bit input, the general decoder parses any body holding a long digit run losslessly.
  if (hasBigIntInput(signature) && /\d{16}/.test(json)) g.unusual('a digit run of 16 or more');
  const { body, headers } = frame(Buffer.from(json, 'utf8'), binary, binaryInputs && g.chance(0.2));
  return { body, headers, ordinary: g.ordinary, how: `valid${g.notes.length ? ` (${g.notes.join(', ')})` : ''}` };
}

/** Numbers JSON does not allow, and integers just outside each integer datatype's range. */
const NUMBER_EDITS = [
  '01',
  '-01',
  '00',
  '1.',
  '.5',
  '+1',
  '1e',
  '1e+',
  '--1',
  '-',
  '0x10',
  'Infinity',
  'NaN',
  '1_0',
  '1.5.2',
  '2E',
  '-0',
  '256',
  '-1',
  '128',
  '-129',
  '32768',
  '-32769',
  '65536',
  '2147483648',
  '-2147483649',
  '4294967296',
  '1.5',
  '1e400',
  '1e2',
  '9007199254740993',
];

const TEXT_EDITS = [
  ',',
  ']',
  '}',
  '[',
  '{',
  '"',
  ':',
  '0',
  '-',
  '.',
  'e',
  'x',
  ' ',
  '\u00a0',
  '\u2028',
  '\u000b',
  '\u000c',
  '\\',
  '\uFEFF',
];

/** A body made from a valid one by one or two edits, most of which break it (some leave it valid). */
export function brokenBody(r: SeededRandom, signature: ModelSignature): GeneratedBody {
  const g = new Generator(r);
  const binaryInputs = g.chance(0.25);
  const { tree, binary } = g.request(signature, binaryInputs);
  const how: string[] = [];
  // One edit alone shows whether each check holds by itself; a text edit on top of a tree edit mostly hides it.
  const mode = r.int(10);
  const treeEdits = mode < 5 ? 1 : mode < 9 ? 0 : 1 + r.int(2);
  for (let edits = treeEdits; edits > 0; edits--) {
    const places = slots(tree);
    if (places.length === 0) break;
    const { parent, index } = g.pick(places);
    const kind = r.int(7);
    const member = Array.isArray(parent[index]) ? parent[index] : undefined;
    const value = member ? member[1] : (parent[index] as Json);
    const replace = (v: Json) => (member ? (member[1] = v) : ((parent as Json[])[index] = v));
    if (kind === 0) {
      how.push('removed a member or element');
      parent.splice(index, 1);
    } else if (kind === 1) {
      how.push('duplicated a member or element');
      (parent as unknown[]).splice(index, 0, member ? [member[0], g.anyValue()] : value);
    } else if (kind === 2 && member) {
      // JSON.parse keeps the last of a key given twice: a plausible second value is the test of that.
      how.push(`gave ${member[0]} twice`);
      parent.splice(index + 1 + r.int(parent.length - index), 0, [member[0], g.variant(value, signature)]);
    } else if (kind === 4 && member && ['data', 'parameters'].includes(JSON.parse(member[0]) as string)) {
      // An input's data both inline and in the binary section.
      how.push('gave an input both data and binary_data_size');
      const both: [string, Json] =
        JSON.parse(member[0]) === 'data'
          ? [g.key('parameters'), { obj: [[g.key('binary_data_size'), raw('0')]] }]
          : [g.key('data'), { arr: [] }];
      parent.splice(r.int(parent.length + 1), 0, both);
    } else if (kind === 3 && 'raw' in value && /^-?\d/.test(value.raw)) {
      how.push(`rewrote the number ${value.raw}`);
      replace(raw(g.pick(NUMBER_EDITS)));
    } else {
      how.push('replaced a value');
      replace(
        g.chance(0.5)
          ? g.anyValue()
          : raw(
              g.pick(['-1', '1.5', '1e2', '300', '-129', '65536', '4294967296', '"FP32"', '"INT64"', 'null', '[]', '[[1]]', '{}', 'true']),
            ),
      );
    }
  }
  let json = emit(tree, r.int(4), r);
  let bytes: Uint8Array | undefined;
  switch (mode < 5 ? -1 : r.int(treeEdits > 0 ? 8 : 5)) {
    case 0: {
      const at = r.int(json.length + 1);
      json = json.slice(0, at) + g.pick(TEXT_EDITS) + json.slice(at);
      how.push('inserted a character');
      break;
    }
    case 1: {
      const at = r.int(json.length);
      json = json.slice(0, at) + json.slice(at + 1);
      how.push('deleted a character');
      break;
    }
    case 2:
      json = json.slice(0, r.int(json.length));
      how.push('truncated');
      break;
    case 3: {
      const at = r.int(json.length + 1);
      const text = Buffer.from(json, 'utf8');
      bytes = Buffer.concat([
        text.subarray(0, at),
        Buffer.from(g.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xc3, 0xa9]])),
        text.subarray(at),
      ]);
      how.push('spliced bytes that may not be UTF-8');
      break;
    }
    case 4:
      json = g.pick(['', ' ', 'null', '[]', '{}', '1', '"x"', '{"inputs":{}}', '{"inputs":[]}', '{"inputs":[null]}', json + json]);
      how.push('replaced the body');
      break;
    default:
  }
  const framed = frame(bytes ?? Buffer.from(json, 'utf8'), binary, binaryInputs && g.chance(0.2));
  let body = framed.body;
  const headers = framed.headers;
  if (binaryInputs && r.next() < 0.2) {
    how.push('changed the binary section');
    body = r.next() < 0.5 ? body.subarray(0, Math.max(0, body.length - 1 - r.int(8))) : Buffer.concat([body, Buffer.from([1, 2, 3])]);
  }
  return { body, headers, ordinary: false, how: how.join(', ') };
}

/** What a decoder made of a body, comparable across decoders: the request, or the error's type, status and text. */
export type Outcome = { readonly request: unknown } | { readonly error: { type: string; status: number | undefined; message: string } };

/** A request with every typed array as its type and bytes, and -0 visible: what "same tensors" means, bit for bit. */
function comparable(r: InferRequest): unknown {
  return {
    id: r.id,
    sagemaker: r.sagemaker,
    outputs: r.outputs,
    inputs: r.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape.map((d) => (Object.is(d, -0) ? '-0' : d)),
      data: Array.isArray(t.data)
        ? { strings: t.data }
        : { type: t.data.constructor.name, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex') },
    })),
  };
}

export function outcome(decode: () => InferRequest): Outcome {
  try {
    return { request: comparable(decode()) };
  } catch (err) {
    const e = err as Error;
    return { error: { type: e.constructor.name, status: err instanceof ProtocolError ? err.status : undefined, message: e.message } };
  }
}
