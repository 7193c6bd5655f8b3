/**
 * Triton's model_warmup from the first golden sample: protoc parses it as ModelWarmup, each input names a
 * file under the model's warmup/ directory, and that file holds the sample's first row in the bytes Triton
 * reads (little-endian, BYTES as 4-byte length then UTF-8), computed here from the sample's JSON.
 */
import { setFloat16 } from '@petamoriken/float16';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../lib/package/manifest';
import { writeTritonRepository } from '../../lib/triton';
import { makeAllTypesPackage, makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { parseModelConfig } from './parse-model-config';

const MNIST = join(__dirname, '..', '..', 'models', 'mnist-mlp');

interface SampleJson {
  inputs: Array<{ name: string; datatype: string; shape: number[]; data: unknown[] }>;
}

function sampleOf(dir: string): SampleJson {
  return JSON.parse(readFileSync(join(dir, readManifest(dir).samples[0].request), 'utf8')) as SampleJson;
}

/** The bytes Triton's warm-up expects for `values` of `datatype`, written out per type. */
function tritonBytes(datatype: string, values: unknown[]): Buffer {
  const each = (size: number, write: (b: Buffer, v: unknown) => void) =>
    Buffer.concat(
      values.map((v) => {
        const b = Buffer.alloc(size);
        write(b, v);
        return b;
      }),
    );
  switch (datatype) {
    case 'BOOL':
      return each(1, (b, v) => b.writeUInt8(v ? 1 : 0));
    case 'UINT8':
      return each(1, (b, v) => b.writeUInt8(Number(v)));
    case 'INT8':
      return each(1, (b, v) => b.writeInt8(Number(v)));
    case 'UINT16':
      return each(2, (b, v) => b.writeUInt16LE(Number(v)));
    case 'INT16':
      return each(2, (b, v) => b.writeInt16LE(Number(v)));
    case 'UINT32':
      return each(4, (b, v) => b.writeUInt32LE(Number(v)));
    case 'INT32':
      return each(4, (b, v) => b.writeInt32LE(Number(v)));
    case 'UINT64':
      return each(8, (b, v) => b.writeBigUInt64LE(BigInt(v as number)));
    case 'INT64':
      return each(8, (b, v) => b.writeBigInt64LE(BigInt(v as number)));
    case 'FP16':
      return each(2, (b, v) => setFloat16(new DataView(b.buffer, b.byteOffset, 2), 0, Number(v), true));
    case 'FP32':
      return each(4, (b, v) => b.writeFloatLE(Number(v)));
    case 'FP64':
      return each(8, (b, v) => b.writeDoubleLE(Number(v)));
    case 'BYTES':
      return Buffer.concat(
        values.map((v) => {
          const s = Buffer.from(String(v), 'utf8');
          const len = Buffer.alloc(4);
          len.writeUInt32LE(s.length);
          return Buffer.concat([len, s]);
        }),
      );
    default:
      throw new Error(`no writer for ${datatype}`);
  }
}

test('mnist-mlp: one warm-up at batch 1, its input the first of the sample rows, as 784 little-endian float32s', async () => {
  // GIVEN mnist-mlp, whose first golden sample is a batch of 3 rows of 784 pixels
  const sample = sampleOf(MNIST);
  expect(sample.inputs[0].shape).toEqual([3, 784]);
  // WHEN its repository is written
  const out = tempDir('modelship-warmup-');
  const repo = await writeTritonRepository(MNIST, out);
  // THEN protoc reads one ModelWarmup for the sample, at batch 1, with the input's type and row dims
  const config = await parseModelConfig(repo.configText);
  expect(config.model_warmup).toHaveLength(1);
  const [warmup] = config.model_warmup;
  expect({ name: warmup.name, batch_size: warmup.batch_size, count: warmup.count, inputs: Object.keys(warmup.inputs) }).toEqual({
    name: 'samples/0.request.json',
    batch_size: 1,
    count: 0,
    inputs: ['input'],
  });
  const { data_type, dims, input_data_file } = warmup.inputs.input;
  expect({ data_type, dims, input_data_file }).toEqual({ data_type: 'TYPE_FP32', dims: [784], input_data_file: 'input-0' });
  // AND the file holds the sample's first row, nothing more
  const bytes = readFileSync(join(out, 'mnist-mlp', 'warmup', 'input-0'));
  expect(bytes.equals(tritonBytes('FP32', sample.inputs[0].data.slice(0, 784)))).toBe(true);
});

test('every v2 datatype: the warm-up file of each input holds its first row in Triton raw bytes', async () => {
  // GIVEN a package with an input of each of the 13 datatypes, shape [-1, 2]
  const { dir } = await makeAllTypesPackage();
  const sample = sampleOf(dir);
  // WHEN its repository is written and its config parsed
  const out = tempDir('modelship-warmup-');
  const repo = await writeTritonRepository(dir, out);
  const warmup = (await parseModelConfig(repo.configText)).model_warmup;
  // THEN each input is listed with Triton's type, dims [2], and a file with the first two elements
  expect(warmup).toHaveLength(1);
  expect(Object.keys(warmup[0].inputs).sort()).toEqual(sample.inputs.map((t) => t.name).sort());
  for (const [i, t] of sample.inputs.entries()) {
    const entry = warmup[0].inputs[t.name];
    expect({ dims: entry.dims, file: entry.input_data_file }).toEqual({ dims: [2], file: `input-${i}` });
    const perRow = t.shape.slice(1).reduce((n, d) => n * d, 1);
    const flat = t.data.flat(Infinity);
    const file = readFileSync(join(out, 'all-types', 'warmup', `input-${i}`));
    expect([t.datatype, file.equals(tritonBytes(t.datatype, flat.slice(0, perRow)))]).toEqual([t.datatype, true]);
  }
  expect(warmup[0].inputs.in_BYTES.data_type).toBe('TYPE_STRING');
});

test('a model that does not batch warms up on the whole sample, at its full shape', async () => {
  const { dir } = await makeTinyMlpPackage(tempDir());
  const sample = sampleOf(dir);
  const repo = await writeTritonRepository(dir, tempDir('modelship-warmup-'), { maxBatchSize: 0 });
  const warmup = (await parseModelConfig(repo.configText)).model_warmup;
  expect(warmup[0].batch_size).toBe(1);
  expect(Object.keys(warmup[0].inputs)).toEqual(['x']);
  expect(warmup[0].inputs.x.dims).toEqual(sample.inputs[0].shape);
  const values = sample.inputs[0].data.flat(Infinity);
  expect(readFileSync(repo.warmupFiles[0]).equals(tritonBytes('FP32', values))).toBe(true);
});

test('a package without golden samples gets no model_warmup and no warmup directory', async () => {
  const { dir } = await makeTinyMlpPackage(tempDir(), { extras: { samples: [] } });
  const out = tempDir('modelship-warmup-');
  const repo = await writeTritonRepository(dir, out);
  expect((await parseModelConfig(repo.configText)).model_warmup).toEqual([]);
  expect(repo.configText).not.toContain('model_warmup');
  expect(existsSync(join(out, 'tiny-mlp', 'warmup'))).toBe(false);
});
