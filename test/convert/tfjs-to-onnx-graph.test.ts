import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../../lib/package/seeded-random';
import { convertLayersModel } from '../../lib/convert/tfjs-to-onnx';
import { runOnnx, seeded, sequential } from './conversion-harness';

function mlp(): tf.Sequential {
  return sequential([
    tf.layers.dense({ inputShape: [8], units: 6, activation: 'relu', ...seeded(21) }),
    tf.layers.dense({ units: 3, activation: 'softmax', ...seeded(22) }),
  ]);
}

describe('convertLayersModel: graph interface', () => {
  it('GIVEN an MLP WHEN converted THEN onnxruntime sees a symbolic batch dim on input and output', async () => {
    const { onnx } = convertLayersModel(mlp(), { inputName: 'input', outputName: 'probabilities' });

    const session = await ort.InferenceSession.create(onnx);
    const [input] = session.inputMetadata;
    const [output] = session.outputMetadata;
    await session.release();

    expect(input).toMatchObject({ name: 'input', isTensor: true, type: 'float32', shape: ['batch', 8] });
    expect(output).toMatchObject({ name: 'probabilities', isTensor: true, type: 'float32', shape: ['batch', 3] });
  });

  it.each([1, 5, 64])('GIVEN the converted MLP WHEN run with batch %i THEN each row matches tfjs', async (batch) => {
    const model = mlp();
    const { onnx, inputName } = convertLayersModel(model);
    const data = new SeededRandom(batch).floats(batch * 8, -1, 1);

    const out = await runOnnx(onnx, inputName, data, [batch, 8]);
    const expected = tf.tidy(() => (model.predict(tf.tensor(data, [batch, 8])) as tf.Tensor).dataSync());

    expect(out.dims).toEqual([batch, 3]);
    const got = out.data as Float32Array;
    expected.forEach((e, i) => expect(Math.abs(got[i] - e)).toBeLessThan(1e-5));
  });

  it('GIVEN no names WHEN converted THEN the defaults are input/output and the graph takes the model name', () => {
    const model = mlp();

    const result = convertLayersModel(model);
    const named = convertLayersModel(model, { name: 'my-graph' });

    expect(result.inputName).toBe('input');
    expect(result.outputName).toBe('output');
    expect(result.layers).toEqual(['Dense', 'Dense']);
    expect(Buffer.from(named.onnx).includes(Buffer.from('my-graph'))).toBe(true);
  });

  it('GIVEN the same model twice WHEN converted THEN the bytes are identical', () => {
    const model = mlp();

    expect(Buffer.from(convertLayersModel(model).onnx).equals(Buffer.from(convertLayersModel(model).onnx))).toBe(true);
  });
});

describe('convertLayersModel: what it refuses', () => {
  it('GIVEN a layer without a converter WHEN converted THEN the error names the layer class and name', () => {
    const model = sequential([tf.layers.dense({ inputShape: [3], units: 2 }), tf.layers.masking({ maskValue: 0, name: 'my_mask' })]);

    expect(() => convertLayersModel(model)).toThrow(/layer 'my_mask' \(Masking\) is not supported/);
  });

  it('GIVEN an LSTM that returns its state WHEN converted THEN the option is refused by name', () => {
    const input = tf.input({ shape: [4, 3] });
    const [out] = tf.layers.lstm({ units: 2, returnState: true, name: 'stateful_out' }).apply(input) as tf.SymbolicTensor[];
    const model = tf.model({ inputs: input, outputs: out });

    expect(() => convertLayersModel(model)).toThrow(/layer 'stateful_out' \(LSTM\)/);
  });

  it('GIVEN a functional model with two inputs WHEN converted through the one-input path THEN it is refused, naming the counts', () => {
    const a = tf.input({ shape: [4] });
    const b = tf.input({ shape: [4] });
    const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: sum, name: 'func' });

    expect(() => convertLayersModel(model)).toThrow(/model 'func' has 2 inputs and 1 outputs; this path takes exactly one of each/);
  });

  it.each([12, 18])('GIVEN opset %i WHEN converted THEN it is refused', (opset) => {
    expect(() => convertLayersModel(mlp(), { opset })).toThrow(`opset ${opset} is not supported; use 13-17`);
  });

  it('GIVEN opset 17 WHEN converted THEN the model loads in onnxruntime', async () => {
    const { onnx } = convertLayersModel(mlp(), { opset: 17 });

    await expect(ort.InferenceSession.create(onnx).then((s) => s.release())).resolves.toBeUndefined();
  });

  it('GIVEN the same name for input and output WHEN converted THEN it is refused', () => {
    expect(() => convertLayersModel(mlp(), { inputName: 'x', outputName: 'x' })).toThrow(/different names/);
  });
});
