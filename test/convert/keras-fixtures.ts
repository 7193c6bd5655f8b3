/** The Keras fixtures that scripts/make-keras-fixtures.py made with real Keras, and what Keras recorded for them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const KERAS_FIXTURES = join(__dirname, '..', 'fixtures', 'keras');

export interface RecordedTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: number[];
}

export interface Recorded {
  inputs: RecordedTensor[];
  outputs: RecordedTensor[];
}

/** The inputs Keras was given and the outputs it answered, for one fixture model. */
export function recordedIo(model: string): Recorded {
  return JSON.parse(readFileSync(join(KERAS_FIXTURES, model, 'io.json'), 'utf8')) as Recorded;
}

/**
 * Every model of the fixture matrix, with the largest difference from Keras's recorded outputs a
 * conversion may show: 1e-5 for FP32 layers, 1e-4 where recurrent layers accumulate over time steps.
 */
export const KERAS_FIXTURE_MODELS: ReadonlyArray<readonly [string, number]> = [
  ['mlp', 1e-5],
  ['cnn-batchnorm', 1e-5],
  ['residual', 1e-5],
  ['two-inputs', 1e-5],
  ['merges', 1e-5],
  ['depthwise-separable', 1e-5],
  ['conv1d', 1e-5],
  ['embedding-text', 1e-5],
  ['transpose-upsampling', 1e-5],
  ['layernorm-gelu', 1e-5],
  ['rescaling-normalization', 1e-5],
  ['normalization-variants', 1e-5],
  ['activations', 1e-5],
  ['shape-layers', 1e-5],
  ['lstm-sequences', 1e-4],
  ['lstm-last', 1e-4],
  ['gru-sequences', 1e-4],
  ['gru-last-reset-before', 1e-4],
  ['simple-rnn', 1e-4],
  ['backwards-recurrent', 1e-4],
  ['bidirectional', 1e-4],
  ['bidirectional-merges', 1e-4],
];
