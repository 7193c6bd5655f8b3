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
