/**
 * Fixture packages built from scratch for tests: a model with an input and output of every v2
 * datatype, and a small MLP whose weights come from a seed (so that "different weights" is one argument).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeOnnxModel } from '../../lib/convert/onnx-builder';
import { createPackage, type CreatePackageOptions } from '../../lib/package/create';
import { seededRandom } from '../../lib/package/seeded-random';
import { DATATYPES } from '../../lib/protocol/datatypes';

export function tempDir(prefix = 'modelship-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Identity for every datatype: in_<DT> [batch, 2] -> out_<DT> [batch, 2]. */
export function allTypesOnnx(): Uint8Array {
  return encodeOnnxModel({
    name: 'all-types',
    nodes: DATATYPES.map((d) => ({ opType: 'Identity', inputs: [`in_${d}`], outputs: [`out_${d}`] })),
    inputs: DATATYPES.map((d) => ({ name: `in_${d}`, datatype: d, shape: ['batch', 2] })),
    outputs: DATATYPES.map((d) => ({ name: `out_${d}`, datatype: d, shape: ['batch', 2] })),
  });
}

/** x [batch, 4] FP32 -> logits = x W + b [batch, 3], probabilities = softmax(logits). */
export function tinyMlpOnnx(seed = 7): Uint8Array {
  const random = seededRandom(seed);
  const w = Float32Array.from({ length: 12 }, () => random() * 2 - 1);
  const b = Float32Array.from({ length: 3 }, () => random() - 0.5);
  return encodeOnnxModel({
    name: 'tiny-mlp',
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
    outputs: [
      { name: 'logits', datatype: 'FP32', shape: ['batch', 3] },
      { name: 'probabilities', datatype: 'FP32', shape: ['batch', 3] },
    ],
    initializers: [
      { name: 'W', dims: [4, 3], data: w },
      { name: 'b', dims: [3], data: b },
    ],
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { opType: 'Add', inputs: ['xw', 'b'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: -1 } },
    ],
  });
}

export interface FixturePackage {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
}

/** What a fixture package may carry besides its model: description, labels, preprocess, samples. */
export type PackageExtras = Pick<CreatePackageOptions, 'description' | 'labels' | 'preprocess' | 'samples'>;

async function pack(onnx: Uint8Array, name: string, version: string, parent: string, extras: PackageExtras = {}): Promise<FixturePackage> {
  const modelPath = join(parent, `${name}-${version}.onnx`);
  writeFileSync(modelPath, onnx);
  const dir = join(parent, `${name}-${version}`);
  await createPackage({ modelPath, name, version, outDir: dir, ...extras });
  return { dir, name, version };
}

export function makeTinyMlpPackage(
  parent = tempDir(),
  opts: { seed?: number; version?: string; name?: string; extras?: PackageExtras } = {},
): Promise<FixturePackage> {
  return pack(tinyMlpOnnx(opts.seed), opts.name ?? 'tiny-mlp', opts.version ?? '1.0.0', parent, opts.extras);
}

export function makeAllTypesPackage(parent = tempDir()): Promise<FixturePackage> {
  return pack(allTypesOnnx(), 'all-types', '1.0.0', parent);
}
