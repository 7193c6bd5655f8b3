/**
 * Reading Keras files: every fixture made by real Keras (scripts/make-keras-fixtures.py) is read from
 * its .keras, .h5 and .weights.h5 forms, and each layer's weights must come back in Keras's own
 * `layer.weights` order, with the shapes and sums Keras recorded. Bad files end in one clear error.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConversionError } from '../../lib/convert/errors';
import { readKerasModelBytes, readKerasModelFile, type KerasModelFile } from '../../lib/convert/keras/read-keras-model';
import { detectModelFormat } from '../../lib/convert/keras/model-format';
import { kerasSnakeCase } from '../../lib/convert/keras/keras-weights';

const ROOT = join(__dirname, '..', 'fixtures', 'keras');
const MODELS = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'config.json')));

interface RecordedWeight {
  shape: number[];
  sum: number;
}
interface Recorded {
  kerasVersion: string;
  weights: Record<string, RecordedWeight[]>;
}

function recorded(model: string): Recorded {
  return JSON.parse(readFileSync(join(ROOT, model, 'io.json'), 'utf8')) as Recorded;
}

function summary(file: KerasModelFile): Record<string, RecordedWeight[]> {
  const out: Record<string, RecordedWeight[]> = {};
  for (const layer of file.graph.layers) {
    if (layer.className === 'InputLayer' && file.graph.kind === 'Sequential') continue;
    out[layer.name] = (file.weights.get(layer.name) ?? []).map((t) => ({ shape: [...t.shape], sum: t.data.reduce((a, b) => a + b, 0) }));
  }
  return out;
}

function expectWeightsAsRecorded(file: KerasModelFile, expected: Recorded['weights']): void {
  const actual = summary(file);
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [layer, list] of Object.entries(expected)) {
    expect(actual[layer].map((w) => w.shape)).toEqual(list.map((w) => w.shape));
    actual[layer].forEach((w, i) => expect(w.sum).toBeCloseTo(list[i].sum, 3));
  }
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConversionError);
  return (err as Error).message;
}

test('there are at least 15 fixture models', () => {
  expect(MODELS.length).toBeGreaterThanOrEqual(15);
});

describe.each(MODELS)('%s', (model) => {
  const rec = recorded(model);
  const dir = join(ROOT, model);

  test('.keras: Keras 3 zip, weights in layer.weights order', async () => {
    const file = await readKerasModelFile(join(dir, 'model.keras'));
    expect(file.source.container).toBe('keras');
    expect(file.source.kerasVersion).toBe(rec.kerasVersion);
    expect(file.graph.serialization).toBe('keras3');
    expectWeightsAsRecorded(file, rec.weights);
  });

  test('.h5: legacy full model, the same graph and weights', async () => {
    const [zip, h5] = await Promise.all([readKerasModelFile(join(dir, 'model.keras')), readKerasModelFile(join(dir, 'model.h5'))]);
    expect(h5.source.container).toBe('h5');
    expect(h5.graph.layers.map((l) => [l.name, l.className])).toEqual(zip.graph.layers.map((l) => [l.name, l.className]));
    expect(h5.graph.inputs).toEqual(zip.graph.inputs);
    expect(h5.graph.outputs).toEqual(zip.graph.outputs);
    for (const [layer, list] of zip.weights) {
      expect((h5.weights.get(layer) ?? []).map((t) => Buffer.from(t.data.buffer))).toEqual(list.map((t) => Buffer.from(t.data.buffer)));
    }
  });

  test('.weights.h5 with --config: the same weights', async () => {
    const file = await readKerasModelFile(join(dir, 'model.weights.h5'), { configPath: join(dir, 'config.json') });
    expect(file.source.container).toBe('weights-h5');
    expectWeightsAsRecorded(file, rec.weights);
  });
});

test.each(MODELS.filter((m) => existsSync(join(ROOT, m, 'keras2.h5'))))(
  '%s: the Keras 2 layout (h5py, as tf-keras 2.15 wrote it)',
  async (model) => {
    const file = await readKerasModelFile(join(ROOT, model, 'keras2.h5'));
    expect(file.source.kerasVersion).toBe('2.15.0');
    expect(file.graph.serialization).toBe('keras2');
    expectWeightsAsRecorded(file, recorded(model).weights);
  },
);

test('a Functional graph keeps its inputs, outputs and wiring', async () => {
  const file = await readKerasModelFile(join(ROOT, 'two-inputs', 'model.keras'));
  expect(file.graph.kind).toBe('Functional');
  expect(file.graph.inputs.map((r) => r.layer)).toEqual(['a', 'b']);
  expect(file.graph.outputs.map((r) => r.layer)).toEqual(['score', 'klass']);
  const concat = file.graph.layers.find((l) => l.name === 'concat')!;
  expect(concat.inbound).toHaveLength(1);
  expect(concat.inbound[0]).toHaveLength(2);
});

test('a weights-only file without --config says what to give', async () => {
  expect(await failure(readKerasModelFile(join(ROOT, 'mlp', 'model.weights.h5')))).toMatch(
    /holds weights only; give the model's config .* --config FILE/,
  );
});

test('weights from another model are refused, naming the stray group', async () => {
  const message = await failure(
    readKerasModelFile(join(ROOT, 'cnn-batchnorm', 'model.weights.h5'), { configPath: join(ROOT, 'mlp', 'config.json') }),
  );
  expect(message).toMatch(/holds weights for '(conv2d|batch_normalization)'.*same model/);
});

describe('code is never run from a model file', () => {
  const dir = join(ROOT, 'lambda-layer');
  const { marker } = JSON.parse(readFileSync(join(dir, 'io.json'), 'utf8')) as { marker: string };

  test.each(['model.keras', 'model.h5'])('%s: a Lambda layer is refused by class and name, and its body never runs', async (file) => {
    expect(existsSync(marker)).toBe(false);
    const message = await failure(readKerasModelFile(join(dir, file)));
    expect(message).toContain("layer 'evil' (Lambda)");
    expect(message).toMatch(/Lambda layer, which holds Python code/);
    expect(existsSync(marker)).toBe(false);
  });

  test('a custom registered object is refused by name', async () => {
    expect(await failure(readKerasModelFile(join(ROOT, 'bad', 'custom-object.keras')))).toMatch(
      /layer 'hidden' \(Dense\) uses the custom object 'my_package>MyDense'/,
    );
  });

  test('an unknown layer class is refused by class and name', async () => {
    expect(await failure(readKerasModelFile(join(ROOT, 'bad', 'unknown-class.keras')))).toMatch(
      /layer 'hidden' \(FancyDense\) is not a layer modelship converts/,
    );
  });
});

describe('bad files', () => {
  const bad = (name: string) => join(ROOT, 'bad', name);

  test('an unknown Keras version', async () => {
    expect(await failure(readKerasModelFile(bad('future-version.keras')))).toMatch(
      /written by Keras 4\.0\.0; modelship reads the layouts of Keras 2 and 3/,
    );
  });

  test('a .keras without its weights', async () => {
    expect(await failure(readKerasModelFile(bad('no-weights.keras')))).toMatch(/has no model\.weights\.h5/);
  });

  test('NaN weights name the layer, the weight and the element', async () => {
    const message = await failure(readKerasModelFile(bad('nan.weights.h5'), { configPath: bad('nan.config.json') }));
    expect(message).toMatch(/weight \/layers\/dense\/vars\/0 of layer 'hidden' holds NaN at element 50/);
  });

  test('a zip bomb stops at the size cap before it inflates', async () => {
    const message = await failure(readKerasModelFile(bad('bomb.keras'), { maxEntryBytes: 1024 * 1024 }));
    expect(message).toMatch(/model\.weights\.h5 would inflate to 16777216 bytes, over the 1048576-byte limit/);
  });

  test('a zip entry that inflates past its declared size is refused', async () => {
    const bytes = readFileSync(bad('bomb.keras'));
    // Rewrite the declared uncompressed size of model.weights.h5 in its local and central headers to 1 KiB.
    const name = Buffer.from('model.weights.h5');
    for (const [signature, sizeAt, nameAt] of [
      [0x04034b50, 22, 30],
      [0x02014b50, 24, 46],
    ]) {
      for (let i = 0; i + nameAt + name.length <= bytes.length; i++) {
        if (bytes.readUInt32LE(i) === signature && bytes.subarray(i + nameAt, i + nameAt + name.length).equals(name))
          bytes.writeUInt32LE(1024, i + sizeAt);
      }
    }
    expect(await failure(readKerasModelBytes(bytes, 'lying.keras'))).toMatch(
      /lying\.keras is not a readable \.keras file: model\.weights\.h5: too many bytes/,
    );
  });

  test.each([
    ['a truncated .keras', () => readFileSync(join(ROOT, 'mlp', 'model.keras')).subarray(0, 1500), /is not a readable \.keras file/],
    ['a truncated .h5', () => readFileSync(join(ROOT, 'mlp', 'model.h5')).subarray(0, 4000), /is not a readable HDF5 file/],
    ['an empty file', () => Buffer.alloc(0), /the file is empty/],
    ['random bytes', () => Buffer.from('not a model at all'), /neither a \.keras zip, an HDF5 file, nor a tfjs model\.json/],
  ])('%s', async (_label, make, pattern) => {
    expect(await failure(readKerasModelBytes(make(), 'bad-file'))).toMatch(pattern);
  });
});

test('formats come from the bytes, not the extension', () => {
  expect(detectModelFormat(readFileSync(join(ROOT, 'mlp', 'model.keras')))).toBe('zip');
  expect(detectModelFormat(readFileSync(join(ROOT, 'mlp', 'model.h5')))).toBe('hdf5');
  expect(detectModelFormat(Buffer.from('  \n{"modelTopology":{}}'))).toBe('json');
  expect(detectModelFormat(Buffer.from('PK'))).toBeUndefined();
});

test('weights-file group names follow Keras naming.to_snake_case', () => {
  expect(
    [
      'Dense',
      'Conv2DTranspose',
      'SimpleRNN',
      'BatchNormalization',
      'GlobalAveragePooling1D',
      'LSTM',
      'UpSampling2D',
      'DepthwiseConv2D',
    ].map(kerasSnakeCase),
  ).toEqual([
    'dense',
    'conv2d_transpose',
    'simple_rnn',
    'batch_normalization',
    'global_average_pooling1d',
    'lstm',
    'up_sampling2d',
    'depthwise_conv2d',
  ]);
});
