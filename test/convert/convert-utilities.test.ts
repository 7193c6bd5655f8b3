import * as tf from '@tensorflow/tfjs';
import { cancelTransposePairs } from '../../lib/convert/cancel-transposes';
import type { NodeSpec } from '../../lib/convert/onnx-builder';
import { SeededRandom } from '../../lib/package/seeded-random';
import { transposeArray } from '../../lib/convert/transpose-array';

tf.env().set('IS_TEST', true);

describe('transposeArray', () => {
  it.each([
    [
      [3, 2, 4, 5],
      [3, 2, 0, 1],
    ],
    [
      [2, 3],
      [1, 0],
    ],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
    [
      [4, 1, 3],
      [2, 0, 1],
    ],
  ])('GIVEN shape %j and perm %j WHEN transposed THEN it equals tf.transpose', (shape, perm) => {
    const data = new SeededRandom(1).floats(shape.reduce((a, b) => a * b, 1));

    const out = transposeArray(data, shape, perm);

    const expected = tf.tidy(() => tf.transpose(tf.tensor(data, shape), perm).dataSync());
    expect(out.shape).toEqual(perm.map((p) => shape[p]));
    expect(Array.from(out.data)).toEqual(Array.from(expected));
  });

  it('GIVEN a perm that is not a permutation WHEN transposed THEN it throws', () => {
    expect(() => transposeArray(new Float32Array(4), [2, 2], [0, 0])).toThrow(/not a permutation of rank 2/);
  });
});

describe('cancelTransposePairs', () => {
  const t = (input: string, output: string, perm: number[]): NodeSpec => ({
    opType: 'Transpose',
    inputs: [input],
    outputs: [output],
    attributes: { perm },
  });
  const relu = (input: string, output: string): NodeSpec => ({ opType: 'Relu', inputs: [input], outputs: [output] });

  it('GIVEN NCHW->NHWC followed by NHWC->NCHW WHEN cancelled THEN both go and the consumer reads the source', () => {
    const nodes = [relu('x', 'a'), t('a', 'b', [0, 2, 3, 1]), t('b', 'c', [0, 3, 1, 2]), relu('c', 'y')];

    const out = cancelTransposePairs(nodes, ['y']);

    expect(out.map((n) => n.opType)).toEqual(['Relu', 'Relu']);
    expect(out[1].inputs).toEqual(['a']);
  });

  it('GIVEN two transposes that do not undo each other WHEN cancelled THEN both stay', () => {
    const nodes = [t('x', 'b', [0, 2, 3, 1]), t('b', 'c', [0, 2, 3, 1]), relu('c', 'y')];

    expect(cancelTransposePairs(nodes, ['y'])).toHaveLength(3);
  });

  it('GIVEN an intermediate read by another node WHEN cancelled THEN the pair stays', () => {
    const nodes = [t('x', 'b', [0, 2, 1]), t('b', 'c', [0, 2, 1]), relu('c', 'y'), relu('b', 'z')];

    expect(cancelTransposePairs(nodes, ['y', 'z'])).toHaveLength(4);
  });

  it('GIVEN the second transpose produces the graph output WHEN cancelled THEN the pair stays', () => {
    const nodes = [t('x', 'b', [1, 0]), t('b', 'y', [1, 0])];

    expect(cancelTransposePairs(nodes, ['y'])).toHaveLength(2);
  });
});

describe('SeededRandom', () => {
  it('GIVEN the same seed WHEN drawn twice THEN the sequences are identical, and another seed differs', () => {
    const a = new SeededRandom(42).floats(100);
    const b = new SeededRandom(42).floats(100);
    const c = new SeededRandom(43).floats(100);

    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
  });

  it('GIVEN a seeded shuffle WHEN applied THEN it is a permutation and reproducible', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);

    const s1 = new SeededRandom(7).shuffle([...items]);
    const s2 = new SeededRandom(7).shuffle([...items]);

    expect(s1).toEqual(s2);
    expect(s1).not.toEqual(items);
    expect([...s1].sort((x, y) => x - y)).toEqual(items);
  });
});
