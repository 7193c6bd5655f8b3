/**
 * What the payload-limit tests share: a model whose answer is far larger than its request, so that an
 * answer can pass Lambda's limit while its request stays small, and request bodies of an exact size.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOnnxModel } from '../../lib/convert/onnx-builder';
import { createPackage } from '../../lib/package/create';
import type { FixturePackage } from '../helpers/fixtures';

/** Each row of the wide model's answer: x [batch, 1] is broadcast to y [batch, WIDE_COLUMNS]. */
export const WIDE_COLUMNS = 65536;

/** A value whose shortest FP32 form has 8 significant digits: "0.12345679," is 11 bytes of JSON an element. */
export const WIDE_VALUE = 0.123456789;

/** x FP32 [batch, 1] -> y = Expand(x, [1, WIDE_COLUMNS]) FP32 [batch, WIDE_COLUMNS]. */
export async function makeWidePackage(parent: string, name: string, target: 'cpu' | 'gpu' = 'cpu'): Promise<FixturePackage> {
  const onnx = encodeOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', WIDE_COLUMNS] }],
    initializers: [{ name: 'shape', dims: [2], data: BigInt64Array.from([1n, BigInt(WIDE_COLUMNS)]) }],
    nodes: [{ opType: 'Expand', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
  const modelPath = join(parent, `${name}.onnx`);
  writeFileSync(modelPath, onnx);
  const dir = join(parent, name);
  await createPackage({
    modelPath,
    name,
    version: '1.0.0',
    outDir: dir,
    target,
    samples: [{ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [0.5] }] }],
  });
  return { dir, name, version: '1.0.0' };
}

/** A JSON infer request for `batch` rows of the wide model. */
export function wideRequest(batch: number, binaryOutput = false): string {
  return JSON.stringify({
    inputs: [{ name: 'x', datatype: 'FP32', shape: [batch, 1], data: Array.from({ length: batch }, () => WIDE_VALUE) }],
    ...(binaryOutput ? { parameters: { binary_data_output: true } } : {}),
  });
}

/**
 * A valid JSON infer request for the tiny MLP (x FP32 [1, 4]), padded with trailing spaces to take exactly
 * `carried` bytes inside a Lambda event: its length, plus one backslash per quote, plus the two quotes
 * around it.
 */
export function paddedRequest(carried: number): string {
  const json = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[0.5,0.25,-1,2]}]}';
  const quotes = json.split('"').length - 1;
  return json + ' '.repeat(carried - json.length - quotes - 2);
}
