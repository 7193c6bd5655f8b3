import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkConversion } from '../../lib/convert/check-conversion';
import { assertOutputsClose, compareOutputs } from '../../lib/convert/compare-outputs';
import { SeededRandom } from '../../lib/package/seeded-random';
import { fileSaver, loadLayersModelFromFile } from '../../lib/convert/tfjs-file-io';
import { convertLayersModel, convertTfjsModelFile } from '../../lib/convert/tfjs-to-onnx';
import { runOnnx, seeded, sequential } from './conversion-harness';

function model(seed: number): tf.Sequential {
  return sequential([
    tf.layers.flatten({ inputShape: [4, 5] }),
    tf.layers.dense({ units: 7, activation: 'elu', ...seeded(seed) }),
    tf.layers.dropout({ rate: 0.5 }),
    tf.layers.dense({ units: 3, activation: 'softmax', ...seeded(seed + 1) }),
  ]);
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelship-convert-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('convertTfjsModelFile', () => {
  it('GIVEN a tfjs model saved to disk WHEN converted from its model.json THEN the checked ONNX file answers like tfjs', async () => {
    const original = model(31);
    await original.save(fileSaver(path.join(dir, 'tfjs')));
    const out = path.join(dir, 'nested', 'model.onnx');

    const result = await convertTfjsModelFile(path.join(dir, 'tfjs', 'model.json'), out, { name: 'round-trip' });

    expect(result.layers).toEqual(['Flatten', 'Dense', 'Dropout', 'Dense']);
    expect(result.samples).toBe(32);
    expect(result.maxAbsDiff).toBeLessThan(1e-4);
    const data = new SeededRandom(99).floats(2 * 20, 0, 1);
    const onnxOut = await runOnnx(new Uint8Array(fs.readFileSync(out)), 'input', data, [2, 4, 5]);
    const expected = tf.tidy(() => (original.predict(tf.tensor(data, [2, 4, 5])) as tf.Tensor).dataSync());
    expect(onnxOut.dims).toEqual([2, 3]);
    expected.forEach((e, i) => expect(Math.abs((onnxOut.data as Float32Array)[i] - e)).toBeLessThan(1e-5));
  });

  it('GIVEN a saved model WHEN loaded back from disk THEN its weights are the saved ones', async () => {
    const original = model(32);
    await original.save(fileSaver(dir));

    const loaded = await loadLayersModelFromFile(path.join(dir, 'model.json'));

    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const a = original.getWeights().map((w) => Array.from(w.dataSync()));
    const b = loaded.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
  });

  it('GIVEN a missing model.json WHEN converted THEN it rejects naming the path and writes nothing', async () => {
    const missing = path.join(dir, 'nope', 'model.json');
    const out = path.join(dir, 'model.onnx');

    await expect(convertTfjsModelFile(missing, out)).rejects.toThrow(`cannot read tfjs model ${missing}`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('GIVEN a JSON file that is not a tfjs model WHEN converted THEN it says so', async () => {
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, '{"hello": 1}');

    await expect(convertTfjsModelFile(file, path.join(dir, 'm.onnx'))).rejects.toThrow(/is not a tfjs layers model.json/);
  });

  it('GIVEN checkSamples 0 WHEN converted THEN it is refused rather than skipping the check', async () => {
    await model(33).save(fileSaver(dir));

    await expect(convertTfjsModelFile(path.join(dir, 'model.json'), path.join(dir, 'm.onnx'), { checkSamples: 0 })).rejects.toThrow(
      'checkSamples must be a positive integer, got 0',
    );
  });
});

describe('the numerical check', () => {
  it('GIVEN ONNX bytes from a different model WHEN checked against tfjs THEN it throws naming sample 0 and the difference', async () => {
    const tfjsModel = model(41);
    const impostor = convertLayersModel(model(42));

    await expect(checkConversion(tfjsModel, impostor, { samples: 8, atol: 1e-4, rtol: 1e-3 })).rejects.toThrow(
      /ONNX output differs from tfjs at sample 0 \(element \d\): expected .*, got .*, \|diff\| = .* > /,
    );
  });

  it('GIVEN the genuine conversion WHEN checked THEN it passes with a tiny max diff', async () => {
    const tfjsModel = model(43);

    const { maxAbsDiff } = await checkConversion(tfjsModel, convertLayersModel(tfjsModel), { samples: 8, atol: 1e-4, rtol: 1e-3 });

    expect(maxAbsDiff).toBeLessThan(1e-5);
  });

  it('GIVEN outputs where sample 5 was perturbed beyond tolerance WHEN compared THEN the error names sample 5', () => {
    const expected = new SeededRandom(5).floats(8 * 3);
    const actual = Float32Array.from(expected);
    actual[5 * 3 + 2] += 0.01;

    expect(() => assertOutputsClose(expected, actual, 8, { atol: 1e-4, rtol: 1e-3 })).toThrow(/at sample 5 \(element 2\)/);
  });

  it('GIVEN a perturbation inside atol + rtol*|expected| WHEN compared THEN it passes and reports the diff', () => {
    const expected = Float32Array.from([10, -10, 0.5]);
    const actual = Float32Array.from([10.0095, -10, 0.5]);

    expect(assertOutputsClose(expected, actual, 1, { atol: 1e-4, rtol: 1e-3 })).toBeCloseTo(0.0095, 6);
  });

  it('GIVEN a NaN in the ONNX output WHEN compared THEN it fails, however loose the tolerance', () => {
    const result = compareOutputs([1, 2], [1, Number.NaN], { atol: 1e9, rtol: 1 });

    expect(result.failure?.index).toBe(1);
    expect(result.maxAbsDiff).toBeNaN();
  });
});
