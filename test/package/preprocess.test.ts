/**
 * The manifest's `preprocess` field and the image geometry it describes: which shapes hold which
 * pictures, how pixels are scaled and laid out, and what `package` refuses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../lib/errors';
import { geometryFor, imageGeometry, imageShape, imageToInput, resample } from '../../lib/package/image-geometry';
import { parseManifest } from '../../lib/package/manifest';
import { parsePreprocessOption } from '../../lib/package/preprocess';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

const ROOT = join(__dirname, '..', '..');
const gray = { range: [0, 1] as [number, number], channels: 'gray' as const };

describe('image geometry', () => {
  test('the shapes the page treats as images, with and without a preprocess field', () => {
    expect(imageGeometry([-1, 784])).toMatchObject({ layout: 'flat', height: 28, width: 28, channels: 'gray' });
    expect(imageGeometry([-1, 28, 28, 1])).toMatchObject({ layout: 'NHWC', height: 28, width: 28, channels: 'gray' });
    expect(imageGeometry([-1, 3, 32, 48])).toMatchObject({ layout: 'NCHW', height: 32, width: 48, channels: 'rgb' });
    expect(imageGeometry([-1, 64, 64, 3])).toMatchObject({ layout: 'NHWC', channels: 'rgb' });
    // Not images: a feature vector, a sequence, an unknown size, a side past the limit.
    expect(imageGeometry([-1, 4])).toBeUndefined();
    expect(imageGeometry([-1, 10, 8])).toBeUndefined();
    expect(imageGeometry([-1, -1, -1, 3])).toBeUndefined();
    expect(imageGeometry([-1, 513, 513, 1])).toBeUndefined();
    // The field decides where the shape alone is silent or ambiguous.
    expect(imageGeometry([-1, 4], { layout: 'flat', ...gray })).toMatchObject({ height: 2, width: 2 });
    expect(imageGeometry([-1, 3, 8, 3], { layout: 'NHWC', range: [0, 1], channels: 'rgb' })).toMatchObject({ height: 3, width: 8 });
  });

  test('geometryFor says why a shape cannot hold the image a preprocess describes', () => {
    expect(geometryFor([-1, 28, 28, 1], { layout: 'flat', ...gray })).toMatch(/2 dimensions/);
    expect(geometryFor([-1, 785], { layout: 'flat', ...gray })).toMatch(/square/);
    expect(geometryFor([-1, 28, 28, 1], { layout: 'NCHW', ...gray })).toMatch(/1 channel\(s\); this one has 28/);
    expect(geometryFor([-1, 1, -1, 28], { layout: 'NCHW', ...gray })).toMatch(/known/);
  });

  test('resampling averages exactly the source pixels each output pixel covers', () => {
    // 4x2 -> 2x1: each output is the mean of a 2x2 block.
    expect(Array.from(resample([0, 10, 20, 30, 40, 50, 60, 70], 4, 2, 2, 1))).toEqual([25, 45]);
    // 3x1 -> 2x1: thirds split across outputs, weighted by coverage.
    const r = Array.from(resample([0, 30, 60], 3, 1, 2, 1));
    expect(r[0]).toBeCloseTo((0 * 1 + 30 * 0.5) / 1.5);
    expect(r[1]).toBeCloseTo((30 * 0.5 + 60 * 1) / 1.5);
  });

  test('pixels are scaled into the range and laid out as the input expects', () => {
    // A 2x1 RGBA picture: a red pixel and a white one.
    const rgba = [255, 0, 0, 255, 255, 255, 255, 255];
    const g = (layout: 'flat' | 'NHWC' | 'NCHW', channels: 'gray' | 'rgb', range: [number, number]) => ({
      layout,
      channels,
      range,
      height: 1,
      width: 2,
    });
    expect(imageToInput(rgba, 2, 1, g('flat', 'gray', [0, 1]))).toEqual([1 / 3, 1]);
    expect(imageToInput(rgba, 2, 1, g('NHWC', 'rgb', [-1, 1]))).toEqual([1, -1, -1, 1, 1, 1]);
    expect(imageToInput(rgba, 2, 1, g('NCHW', 'rgb', [0, 255]))).toEqual([255, 255, 0, 255, 0, 255]);
    expect(imageShape(g('NCHW', 'rgb', [0, 1]))).toEqual([1, 3, 1, 2]);
    expect(imageShape({ layout: 'flat', ...gray, height: 28, width: 28 })).toEqual([1, 784]);
  });
});

describe('the preprocess manifest field', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', 'mnist-mlp', 'modelship.json'), 'utf8')) as Record<string, unknown>;

  test('the example models carry one that fits their input', () => {
    expect(parseManifest(manifest).preprocess).toEqual({ layout: 'flat', range: [0, 1], channels: 'gray' });
    const cnn = JSON.parse(readFileSync(join(ROOT, 'models', 'mnist-cnn', 'modelship.json'), 'utf8')) as unknown;
    expect(parseManifest(cnn).preprocess).toEqual({ layout: 'NHWC', range: [0, 1], channels: 'gray' });
  });

  test('a preprocess that does not fit the first input, or is malformed, is refused with the reason', () => {
    expect(() => parseManifest({ ...manifest, preprocess: { layout: 'NHWC', ...gray } })).toThrow(
      /preprocess does not fit input 'input' \[-1,784\]: an NHWC image input has 4 dimensions/,
    );
    expect(() => parseManifest({ ...manifest, preprocess: { layout: 'flat', range: [1, 1], channels: 'gray' } })).toThrow(
      /preprocess\.range: must be two different finite numbers/,
    );
    expect(() => parseManifest({ ...manifest, preprocess: { layout: 'flat', ...gray, invert: true } })).toThrow(/preprocess/);
  });

  test('package records it, and refuses one that does not fit the model', async () => {
    const parent = tempDir();
    const ok = await makeTinyMlpPackage(parent, { extras: { preprocess: { layout: 'flat', ...gray } } });
    const written = JSON.parse(readFileSync(join(ok.dir, 'modelship.json'), 'utf8')) as { preprocess: unknown };
    expect(written.preprocess).toEqual({ layout: 'flat', ...gray });
    await expect(
      makeTinyMlpPackage(parent, { name: 'rgb', extras: { preprocess: { layout: 'flat', range: [0, 1], channels: 'rgb' } } }),
    ).rejects.toThrow(/input 'x' \[-1,4\]: a flat rgb image input holds a square/);
  });

  test('--preprocess takes JSON and names what is wrong with it as a usage error', () => {
    expect(parsePreprocessOption('{"layout":"NCHW","range":[-1,1],"channels":"rgb"}')).toEqual({
      layout: 'NCHW',
      range: [-1, 1],
      channels: 'rgb',
    });
    expect(() => parsePreprocessOption('{layout')).toThrow(UsageError);
    expect(() => parsePreprocessOption('{"layout":"HWC","range":[0,1],"channels":"gray"}')).toThrow(/--preprocess .*layout/);
  });
});
