import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceEngine } from '../../lib/engine/engine';
import { encodeOnnxModel } from '../../lib/convert/onnx-builder';
import { createPackage } from '../../lib/package/create';
import { sha256 } from '../../lib/package/hash';
import { decodeInferRequest } from '../../lib/protocol/decode';
import { BadRequestError } from '../../lib/protocol/errors';
import { PackageError } from '../../lib/package/errors';
import type { Manifest } from '../../lib/package/manifest';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';

/** The manifest fields these tests break, writable. */
interface EditableManifest {
  inputs: Array<{ name: string; datatype: string; shape: number[] }>;
  model: { file: string };
}

function rewriteManifest(dir: string, edit: (m: EditableManifest) => void): void {
  const path = join(dir, 'modelship.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as EditableManifest;
  edit(m);
  writeFileSync(path, JSON.stringify(m));
}

describe('InferenceEngine integrity', () => {
  test('refuses a model whose bytes changed, before creating a session', async () => {
    // GIVEN a package whose model had one byte changed but kept its size
    const { dir } = await makeTinyMlpPackage();
    const bytes = readFileSync(join(dir, 'model.onnx'));
    bytes[bytes.length - 5] ^= 1;
    writeFileSync(join(dir, 'model.onnx'), bytes);
    // WHEN it loads THEN it is refused with both hashes
    await expect(InferenceEngine.load(dir)).rejects.toThrow(PackageError);
    await expect(InferenceEngine.load(dir)).rejects.toThrow(
      new RegExp(
        `has sha256 ${sha256(bytes)} but the manifest says [0-9a-f]{64}: the model has been tampered with or changed since it was packaged`,
      ),
    );
  });

  test('refuses a model whose size differs from the manifest', async () => {
    const { dir } = await makeTinyMlpPackage();
    writeFileSync(join(dir, 'model.onnx'), Buffer.concat([readFileSync(join(dir, 'model.onnx')), Buffer.from([0])]));
    await expect(InferenceEngine.load(dir)).rejects.toThrow(/is 337 bytes but the manifest says 336/);
  });

  test('refuses a manifest that disagrees with the model about its inputs', async () => {
    const { dir } = await makeTinyMlpPackage();
    rewriteManifest(dir, (m) => {
      m.inputs[0].datatype = 'FP64';
    });
    await expect(InferenceEngine.load(dir)).rejects.toThrow(/input 'x' is float32 in the model but FP64 in the manifest/);
    rewriteManifest(dir, (m) => {
      m.inputs[0] = { name: 'other', datatype: 'FP32', shape: [-1, 4] };
    });
    await expect(InferenceEngine.load(dir)).rejects.toThrow(/the manifest's input 'other' is not in the model/);
  });

  test('refuses a missing model file with its path', async () => {
    const { dir } = await makeTinyMlpPackage();
    rewriteManifest(dir, (m) => {
      m.model.file = 'gone.onnx';
    });
    await expect(InferenceEngine.load(dir)).rejects.toThrow(/gone\.onnx cannot be read/);
  });
});

describe('InferenceEngine.load of a package checked at synth (checkedAtSynth, the Lambda asset)', () => {
  test('parses the manifest and labels without checking them again, and still checks the model against the sha256', async () => {
    // GIVEN a package whose manifest gained a field the schema refuses
    const { dir } = await makeTinyMlpPackage();
    const path = join(dir, 'modelship.json');
    writeFileSync(path, JSON.stringify({ ...(JSON.parse(readFileSync(path, 'utf8')) as object), unknownField: 1 }));
    // THEN a plain load refuses it, and a load told it was checked at synth takes it as it is
    await expect(InferenceEngine.load(dir)).rejects.toThrow(/is not a valid manifest: .*unknownField/);
    const engine = await InferenceEngine.load(dir, { checkedAtSynth: true });
    expect(engine.manifest.name).toBe('tiny-mlp');
    await engine.release();
    // AND the model's bytes are checked all the same
    const bytes = readFileSync(join(dir, 'model.onnx'));
    bytes[bytes.length - 5] ^= 1;
    writeFileSync(join(dir, 'model.onnx'), bytes);
    await expect(InferenceEngine.load(dir, { checkedAtSynth: true })).rejects.toThrow(
      new RegExp(`has sha256 ${sha256(bytes)} but the manifest says [0-9a-f]{64}`),
    );
  });
});

describe('InferenceEngine.infer', () => {
  test('answers only the outputs asked for, in the order asked', async () => {
    const { dir } = await makeTinyMlpPackage();
    const engine = await InferenceEngine.load(dir);
    const req = decodeInferRequest(
      Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }],
          outputs: [{ name: 'probabilities' }],
        }),
      ),
      {},
      engine.manifest,
    );
    const result = await engine.infer(req);
    expect(result.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([['probabilities', 'FP32', [2, 3]]]);
    const p = result.outputs[0].data as Float32Array;
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 5);
    await engine.release();
  });

  test('a request the graph itself refuses is a 400, not a crash', async () => {
    // GIVEN a model whose two inputs must broadcast together, which the manifest's shapes cannot say
    const parent = tempDir();
    const onnx = encodeOnnxModel({
      name: 'add',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: ['n'] },
        { name: 'b', datatype: 'FP32', shape: ['m'] },
      ],
      outputs: [{ name: 'c', datatype: 'FP32', shape: ['k'] }],
      nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['c'] }],
    });
    writeFileSync(join(parent, 'add.onnx'), onnx);
    await createPackage({ modelPath: join(parent, 'add.onnx'), name: 'add', version: '1.0.0', outDir: join(parent, 'pkg') });
    const engine = await InferenceEngine.load(join(parent, 'pkg'));
    // WHEN the sizes cannot broadcast
    const decode = (body: unknown) => decodeInferRequest(Buffer.from(JSON.stringify(body)), {}, engine.manifest);
    const request = decode({
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [2], data: [1, 2] },
        { name: 'b', datatype: 'FP32', shape: [3], data: [1, 2, 3] },
      ],
    });
    // THEN it is a BadRequestError that names the model
    await expect(engine.infer(request)).rejects.toThrow(BadRequestError);
    await expect(engine.infer(request)).rejects.toThrow(/model 'add' rejected the request/);
    // AND the engine still serves good requests
    const ok = await engine.infer(
      decode({
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2], data: [1, 2] },
          { name: 'b', datatype: 'FP32', shape: [2], data: [3, 4] },
        ],
      }),
    );
    expect(Array.from(ok.outputs[0].data as Float32Array)).toEqual([4, 6]);
    await engine.release();
  });
});

describe('InferenceEngine.metadata', () => {
  test('is the v2 model metadata of its one version, as the manifest gives it', async () => {
    const { dir } = await makeTinyMlpPackage();
    const engine = await InferenceEngine.load(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'modelship.json'), 'utf8')) as Manifest;
    expect(engine.metadata()).toEqual({
      name: 'tiny-mlp',
      versions: ['1.0.0'],
      platform: 'onnxruntime_onnx',
      inputs: manifest.inputs,
      outputs: manifest.outputs,
    });
    await engine.release();
  });
});
