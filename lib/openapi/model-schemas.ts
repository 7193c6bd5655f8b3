/**
 * The protocol's generic body schemas (lib/protocol/wire.ts) narrowed to one model: its input and output
 * names, datatypes as constants, shapes dimension by dimension (a fixed size as a constant, -1 as any
 * size), and element types with the ranges the decoder enforces. Narrowed by `extend`, so every field
 * the generic schema has, and only those, appears in the model's.
 */
import { z } from 'zod/v4';
import { DATATYPE_INFO, type Datatype } from '../protocol/datatypes';
import {
  inferInputSchema,
  inferOutputSchema,
  inferRequestSchema,
  inferResponseSchema,
  requestedOutputSchema,
  type ModelMetadata,
  type TensorMetadata,
} from '../protocol/wire';

/** Marks 64-bit integers, whose JSON values the server reads exactly past 2^53: the JSON Schema gets no bounds for them. */
export const EXACT_INTEGER = 'int64';

/** One element of a tensor's `data`; floats in a response may be null (NaN and infinities). */
function element(datatype: Datatype, nullableFloats: boolean): z.ZodType {
  const info = DATATYPE_INFO[datatype];
  switch (info.json) {
    case 'boolean':
      return z.boolean();
    case 'string':
      return z.string();
    case 'number':
      return nullableFloats ? z.number().nullable() : z.number();
    case 'integer':
      return info.bigint
        ? z.number().int().meta({ format: EXACT_INTEGER })
        : z
            .number()
            .int()
            .min(info.min as number)
            .max(info.max as number);
  }
}

/** `data` flat, or nested one array per dimension, as the decoder takes it. */
function data(t: TensorMetadata, nullableFloats: boolean): z.ZodType {
  const el = element(t.datatype, nullableFloats);
  let nested: z.ZodType = el;
  for (let i = 0; i < Math.max(t.shape.length, 1); i++) nested = z.array(nested);
  const flat = z.array(el);
  return t.shape.length > 1 ? z.union([flat, nested]).meta({ description: 'Row-major elements, flat or nested' }) : flat;
}

function shape(t: TensorMetadata): z.ZodType {
  const dims: z.ZodType[] = t.shape.map((d) => (d === -1 ? z.number().int().min(0) : z.literal(d)));
  return dims.length === 0 ? z.tuple([]) : z.tuple(dims as [z.ZodType, ...z.ZodType[]]);
}

/** One schema, or the choice of several. */
function oneOf(schemas: readonly z.ZodType[]): z.ZodType {
  return schemas.length === 1 ? schemas[0] : z.union(schemas as [z.ZodType, ...z.ZodType[]]);
}

/** The infer request body this model accepts. */
export function modelInferRequestSchema(model: ModelMetadata): z.ZodType {
  const inputs = model.inputs.map((t) =>
    inferInputSchema.extend({
      name: z.literal(t.name),
      datatype: z.literal(t.datatype),
      shape: shape(t),
      data: data(t, false).optional(),
    }),
  );
  const outputNames = model.outputs.map((o) => o.name) as [string, ...string[]];
  return inferRequestSchema.extend({
    inputs: z
      .array(oneOf(inputs))
      .min(model.inputs.length)
      .max(model.inputs.length)
      .meta({ description: `Each of the model's inputs once: ${model.inputs.map((t) => t.name).join(', ')}` }),
    outputs: z
      .array(requestedOutputSchema.extend({ name: z.enum(outputNames) }))
      .optional()
      .meta({ description: 'The outputs to return, in order; every output when absent' }),
  });
}

/** The infer response this model gives. */
export function modelInferResponseSchema(model: ModelMetadata): z.ZodType {
  const outputs = model.outputs.map((t) =>
    inferOutputSchema.extend({
      name: z.literal(t.name),
      datatype: z.literal(t.datatype),
      shape: shape(t),
      data: data(t, true).optional(),
    }),
  );
  return inferResponseSchema.extend({ model_name: z.literal(model.name), outputs: z.array(oneOf(outputs)) });
}
