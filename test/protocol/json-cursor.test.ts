import { JsonCursor, NumberMode, UNUSUAL } from '../../lib/protocol/json-cursor';
import { SeededRandom } from '../../lib/package/seeded-random';

const { fround } = Math;
const same = Object.is;

/** A seeded number token: any length of mantissa, any point and exponent, the shapes four-digit reads meet. */
function numberText(r: SeededRandom): string {
  const digits = (n: number) => Array.from({ length: n }, () => String(r.int(10))).join('');
  const whole = r.next() < 0.4 ? '0' : String(1 + r.int(9)) + digits(r.int(12));
  const fraction = r.next() < 0.8 ? `.${'0'.repeat(r.next() < 0.3 ? r.int(12) : 0)}${digits(1 + r.int(30))}` : '';
  const exponent = r.next() < 0.3 ? `${r.next() < 0.5 ? 'e' : 'E'}${['', '+', '-'][r.int(3)]}${r.int(60)}` : '';
  return `${r.next() < 0.3 ? '-' : ''}${whole}${fraction}${exponent}`;
}

/** Reads one number the cursor's way, followed by `after` as in an array. */
function read(text: string, mode: NumberMode, after = ']'): number {
  const c = new JsonCursor(Buffer.from(text + after));
  const v = c.number(mode);
  expect(c.pos).toBe(text.length);
  return v;
}

describe('JsonCursor numbers', () => {
  test('50,000 seeded tokens read to exactly what JSON.parse reads (doubles), and to the same float32', () => {
    const r = new SeededRandom(11);
    let failures = 0;
    for (let i = 0; i < 50000; i++) {
      const text = numberText(r);
      const expected = JSON.parse(text) as number;
      const ok = same(read(text, NumberMode.Double), expected) && same(fround(read(text, NumberMode.Float32, ',')), fround(expected));
      if (!ok && failures++ < 5)
        expect({ text, double: read(text, NumberMode.Double), float32: read(text, NumberMode.Float32) }).toBe(expected);
    }
    expect(failures).toBe(0);
  });

  test('digits up to the very end of the text, and runs of every length around four', () => {
    for (let n = 1; n <= 24; n++) {
      const text = `0.${'123456789'.repeat(3).slice(0, n)}`;
      const c = new JsonCursor(Buffer.from(text));
      expect(c.number(NumberMode.Double)).toBe(JSON.parse(text));
      expect(c.pos).toBe(text.length);
    }
  });

  test.each(['01', '-01', '00', '1.', '.5', '+1', '1e', '1e+', '--1', '-', 'Infinity', 'NaN', '1.e5', '-.5'])(
    '%s is not a JSON number: left to the general parser',
    (text) => {
      const c = new JsonCursor(Buffer.from(`${text}]`));
      let thrown: unknown;
      try {
        c.number(NumberMode.Double);
        // A token cut short leaves the rest where a comma or bracket must follow.
        if (c.more(0x5d)) thrown = 'a comma';
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBe(UNUSUAL);
    },
  );

  test('integer mode takes plain integers of up to 15 digits, exactly, and nothing else', () => {
    expect(read('123456789012345', NumberMode.Integer)).toBe(123456789012345);
    expect(same(read('-0', NumberMode.Integer), -0)).toBe(true);
    for (const text of ['1234567890123456', '1.0', '1e2']) expect(() => read(text, NumberMode.Integer)).toThrow(UNUSUAL);
  });
});
