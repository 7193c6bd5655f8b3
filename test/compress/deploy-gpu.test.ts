/**
 * A quantized GPU package goes to Triton unchanged: its config.pbtxt parses with protoc like any
 * other, and the model file in the repository, QDQ ops and all, loads and answers in onnxruntime-node
 * (the library Triton's onnxruntime backend wraps).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compressPackage } from '../../lib/compress/compress-package';
import { quantizeModel } from '../../lib/compress/quantize';
import { decodePlainModel } from '../../lib/onnx/plain-model';
import { createPackage, readSampleRequests } from '../../lib/package/create';
import { writeTritonRepository } from '../../lib/triton';
import { tempDir } from '../helpers/fixtures';
import { parseModelConfig } from '../triton/parse-model-config';

jest.setTimeout(120_000);

const MLP = join(__dirname, '..', '..', 'models', 'mnist-mlp');

test.each(['int8-weights', 'int8-dynamic', 'fp16'] as const)(
  '%s of a gpu package: config.pbtxt parses with protoc, and its model answers in onnxruntime',
  async (mode) => {
    const parent = tempDir();
    const gpu = join(parent, 'gpu');
    await createPackage({
      modelPath: join(MLP, 'model.onnx'),
      name: 'mnist-gpu',
      version: '1.0.0',
      outDir: gpu,
      target: 'gpu',
      samples: await readSampleRequests(join(MLP, 'samples', '0.request.json')),
    });
    const out = join(parent, mode);
    await compressPackage(mode, { base: gpu, out, latencyBudgetMs: 5 }, (c) => quantizeModel(c, mode));
    const repo = await writeTritonRepository(out, join(parent, 'repo'));
    const config = await parseModelConfig(readFileSync(repo.configPath, 'utf8'));
    expect(config.name).toBe('mnist-gpu');
    expect(config.platform).toBe('onnxruntime_onnx');
    expect(config.input).toEqual([expect.objectContaining({ name: 'input', data_type: 'TYPE_FP32', dims: [784] })]);
    expect(config.output).toEqual([expect.objectContaining({ name: 'probabilities', data_type: 'TYPE_FP32', dims: [10] })]);
    const modelFile = repo.modelPath;
    const ops = new Set(decodePlainModel(readFileSync(modelFile)).graph.node.map((n) => n.opType));
    expect(ops.has({ 'int8-weights': 'DequantizeLinear', 'int8-dynamic': 'MatMulInteger', fp16: 'Cast' }[mode])).toBe(true);
    const session = await ort.InferenceSession.create(readFileSync(modelFile));
    const result = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 784).fill(0.5), [2, 784]) });
    await session.release();
    const p = result.probabilities.data as Float32Array;
    expect(p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7] + p[8] + p[9]).toBeCloseTo(1, 5);
  },
);
