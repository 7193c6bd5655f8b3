/**
 * The manifest's optional `preprocess` field: how a picture becomes the model's first input (its layout,
 * value range and channels). Kept in its own file so the manifest schema gains one line for it.
 */
import type { z } from 'zod';
import { zod } from '../util/lazy-zod';
import { schemaProblems } from '../util/schema-problems';
import { UsageError } from '../errors';
import { geometryFor } from './image-geometry';
import type { Preprocess } from '../protocol/wire';
import type { TensorSpec } from './manifest';

/** Datatypes a picture's pixels can be written into; integer ones get rounded values. */
const IMAGE_DATATYPES = new Set(['FP16', 'FP32', 'FP64', 'UINT8']);

function buildPreprocessSchema() {
  const z = zod();
  return z.strictObject({
    layout: z.enum(['flat', 'NHWC', 'NCHW']),
    /** The values black and white map to; everything between is linear. */
    range: z
      .tuple([z.number(), z.number()])
      .refine(([lo, hi]) => Number.isFinite(lo) && Number.isFinite(hi) && lo !== hi, 'must be two different finite numbers'),
    channels: z.enum(['gray', 'rgb']),
  });
}

let schema: ReturnType<typeof buildPreprocessSchema> | undefined;
export const preprocessSchema = () => (schema ??= buildPreprocessSchema());

/**
 * Why `preprocess` cannot describe the first input (`input` of the manifest), or undefined when it can.
 * The schema checks the field alone; this checks it against the input it applies to.
 */
export function preprocessProblem(preprocess: z.infer<ReturnType<typeof preprocessSchema>>, input: TensorSpec): string | undefined {
  if (!IMAGE_DATATYPES.has(input.datatype)) {
    return `preprocess applies to input '${input.name}', whose datatype ${input.datatype} cannot hold pixels (FP16, FP32, FP64 or UINT8 can)`;
  }
  const g = geometryFor(input.shape, preprocess);
  return typeof g === 'string' ? `preprocess does not fit input '${input.name}' [${input.shape.join(',')}]: ${g}` : undefined;
}

/** Holds only for `true`: a compile-time assertion. */
type Assert<T extends true> = T;
/** Whether A and B are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * Model metadata echoes this field, described there by lib/protocol/wire.ts (zod's v4 API, too slow to
 * load on every manifest read): the build fails the day the two stop describing one type.
 */
export type PreprocessMatchesMetadata = Assert<Same<z.infer<ReturnType<typeof preprocessSchema>>, Preprocess>>;

/** `modelship package --preprocess JSON`: the option's text, checked; a UsageError (exit 2) says what is wrong. */
export function parsePreprocessOption(text: string): z.infer<ReturnType<typeof preprocessSchema>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--preprocess is not valid JSON: ${(err as Error).message}`);
  }
  const result = preprocessSchema().safeParse(value);
  if (!result.success) {
    throw new UsageError(`--preprocess is not a valid preprocess: ${schemaProblems(result.error)}`);
  }
  return result.data;
}
