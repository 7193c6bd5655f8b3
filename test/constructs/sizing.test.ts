/**
 * Memory, timeout and Lambda's 250 MB limit. The large packages here are sparse files: big on paper,
 * nearly nothing on disk.
 */
import { rmSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelPackage } from '../../lib/constructs/model-package';
import { OnnxRuntimeLayer } from '../../lib/constructs/onnx-runtime-layer';
import { defaultMemorySize, defaultTimeout, formatBytes, LAMBDA_UNZIPPED_LIMIT_BYTES } from '../../lib/constructs/private/sizing';
import { makeTinyMlpPackage, type FixturePackage } from '../helpers/fixtures';
import { sparsePackage, testApp, type TestApp } from './synth-helpers';

const MiB = 1024 * 1024;

describe('memory and timeout derived from the model size', () => {
  test.each([
    [0.001, 1024],
    [100, 1024],
    [256, 1024],
    [300, 1216],
    [1000, 3264],
    [4000, 10240],
  ])('a %s MiB model gets %s MiB', (modelMiB, expected) => {
    expect(defaultMemorySize(modelMiB * MiB)).toBe(expected);
  });

  test.each([
    [0.001, 11],
    [9.5, 11],
    [50, 15],
    [150, 25],
    [500, 29],
  ])('a %s MiB model gets a %s s timeout, never more than API Gateway waits', (modelMiB, expected) => {
    expect(defaultTimeout(modelMiB * MiB).toSeconds()).toBe(expected);
  });

  test("the limit is Lambda's 250 MB for a function and its layers, counted as Lambda does", () => {
    expect(LAMBDA_UNZIPPED_LIMIT_BYTES).toBe(262_144_000);
    expect(formatBytes(LAMBDA_UNZIPPED_LIMIT_BYTES)).toBe('250.0 MiB (262,144,000 bytes)');
  });
});

describe('a package that cannot fit in Lambda is a synth error that gives the sizes', () => {
  let t: TestApp;
  let tiny: FixturePackage;
  const sparse: string[] = [];

  beforeAll(async () => {
    t = testApp();
    tiny = await makeTinyMlpPackage();
  });

  afterAll(() => {
    t.cleanup();
    for (const dir of sparse) rmSync(dir, { recursive: true, force: true });
  });

  test('over the limit by the package and layer sizes alone: refused before the package is copied', () => {
    // GIVEN a 250 MiB model: with the onnxruntime layer it is over the limit
    const dir = sparsePackage(tiny.dir, 250 * MiB);
    sparse.push(dir);
    const stack = t.stack('TooLarge');
    // WHEN a LambdaModel is defined for it  THEN synth fails, giving each size and the limit
    expect(() => new LambdaModel(stack, 'Model', { modelPackage: ModelPackage.fromDirectory(dir) })).toThrow(
      /^LambdaModel tiny-mlp 1\.0\.0 does not fit in Lambda: the package \(250\.0 MiB \(262,14\d,\d{3} bytes\)\) plus the onnxruntime layer \(4\d\.\d MiB \([\d,]+ bytes\)\) is 29\d\.\d MiB \([\d,]+ bytes\) unzipped, over Lambda's limit of 250 MB \(262,144,000 bytes\)/,
    );
  });

  test('under the limit on paper but over it once bundled: the measured size is refused', () => {
    // GIVEN a model that leaves 1,000 bytes for the handler bundle, which needs far more
    const stack = t.stack('JustOver');
    const layer = OnnxRuntimeLayer.of(stack);
    const packageOverhead = ModelPackage.fromDirectory(tiny.dir).totalBytes - ModelPackage.fromDirectory(tiny.dir).manifest.model.bytes;
    const dir = sparsePackage(tiny.dir, LAMBDA_UNZIPPED_LIMIT_BYTES - 1000 - layer.unzippedBytes - packageOverhead);
    sparse.push(dir);
    // WHEN it is bundled  THEN the function code measured in the assembly plus the layer is over the limit
    let message = '';
    try {
      new LambdaModel(stack, 'Model', { modelPackage: ModelPackage.fromDirectory(dir) });
    } catch (err) {
      message = (err as Error).message;
    }
    const sizes =
      /does not fit in Lambda: the function code \(20\d\.\d MiB \(([\d,]+) bytes\)\) plus the onnxruntime layer \(4\d\.\d MiB \(([\d,]+) bytes\)\) is 25\d\.\d MiB \(([\d,]+) bytes\) unzipped/.exec(
        message,
      );
    expect(sizes).not.toBeNull();
    const [code, layerBytes, total] = sizes!.slice(1).map((v) => Number(v.replace(/,/g, '')));
    expect(layerBytes).toBe(layer.unzippedBytes);
    expect(code + layerBytes).toBe(total);
    // The package left 1,000 bytes; the handler bundle (hundreds of KB) is what takes it over.
    expect(total).toBeGreaterThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
    expect(code).toBeGreaterThan(LAMBDA_UNZIPPED_LIMIT_BYTES - layerBytes - 1000 + 100_000);
  });

  test("a timeout over Lambda's 15 minutes is refused", () => {
    const stack = t.stack('Timeouts');
    const pkg = ModelPackage.fromDirectory(tiny.dir);
    expect(() => new LambdaModel(stack, 'TooLong', { modelPackage: pkg, timeout: Duration.minutes(16) })).toThrow(
      /timeout must be from 1 to 900 seconds; got 960/,
    );
  });
});
