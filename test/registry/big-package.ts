/**
 * A package whose tarball is about 6 MB, over S3's 5 MiB minimum part size, so that it goes up as a
 * real multipart upload: x [batch, 784] -> x W1 [784, 2048] -> W2 [2048, 4], with seeded random
 * weights (which gzip cannot shrink much).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOnnxModel } from '../../lib/convert/onnx-builder';
import { createPackage } from '../../lib/package/create';
import { seededRandom } from '../../lib/package/seeded-random';

export async function makeBigPackage(parent: string): Promise<string> {
  const random = seededRandom(11);
  const w1 = Float32Array.from({ length: 784 * 2048 }, () => random() * 2 - 1);
  const w2 = Float32Array.from({ length: 2048 * 4 }, () => random() * 0.1);
  const onnx = encodeOnnxModel({
    name: 'big-mlp',
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 784] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 4] }],
    initializers: [
      { name: 'W1', dims: [784, 2048], data: w1 },
      { name: 'W2', dims: [2048, 4], data: w2 },
    ],
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'W1'], outputs: ['h'] },
      { opType: 'MatMul', inputs: ['h', 'W2'], outputs: ['y'] },
    ],
  });
  const modelPath = join(parent, 'big.onnx');
  writeFileSync(modelPath, onnx);
  const dir = join(parent, 'big-mlp');
  await createPackage({ modelPath, name: 'big-mlp', version: '1.0.0', outDir: dir });
  return dir;
}
