/**
 * zod schemas as OpenAPI 3.1 Schema Objects: JSON Schema draft 2020-12, OpenAPI 3.1's own dialect, so
 * nothing is translated, only the `$schema` key dropped (the document's dialect applies).
 */
import { z } from 'zod/v4';
import { EXACT_INTEGER } from './model-schemas';

export type JsonSchema = Record<string, unknown>;

/**
 * A request body is read leniently (fields the server does not know are ignored), so its schema allows
 * more; a response is exactly what the server writes.
 */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      // zod bounds every integer to 2^53; 64-bit integers travel exactly, beyond that.
      const js = ctx.jsonSchema;
      if (js.format === EXACT_INTEGER) {
        delete js.minimum;
        delete js.maximum;
      }
      // A tuple (a shape, a range) has exactly its items: zod says what each is, not that there are no more or fewer.
      if (Array.isArray(js.prefixItems) && js.items === undefined) {
        js.minItems = js.prefixItems.length;
        js.maxItems = js.prefixItems.length;
      }
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}
