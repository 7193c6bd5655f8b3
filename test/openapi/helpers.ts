/**
 * Checking an OpenAPI document the way its users would: the whole document with a real OpenAPI 3.1
 * validator (swagger-parser), and real answers against the schemas it gives (Ajv, JSON Schema 2020-12,
 * OpenAPI 3.1's dialect), so a schema that describes something the server does not send fails.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

export type Document = Record<string, unknown> & {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, Record<string, unknown>> };
};

/** Validates a copy (swagger-parser dereferences what it is given) and resolves when the document is valid OpenAPI. */
export async function validateOpenApi(doc: unknown): Promise<void> {
  await SwaggerParser.validate(structuredClone(doc) as never);
}

/** A validator for one of the document's component schemas. */
export function schemaValidator(doc: Document, name: string): ValidateFunction {
  const schema = doc.components.schemas[name];
  if (schema === undefined) throw new Error(`the document has no schema ${name}; it has ${Object.keys(doc.components.schemas).join(', ')}`);
  const ajv = new Ajv2020({ strict: true, allErrors: true, formats: { int64: true }, keywords: ['example'] });
  return ajv.compile(schema);
}

/** Asserts `value` matches the named schema, with Ajv's reasons in the failure. */
export function expectMatches(doc: Document, name: string, value: unknown): void {
  const validate = schemaValidator(doc, name);
  const ok = validate(value);
  if (!ok) throw new Error(`${name} rejects ${JSON.stringify(value).slice(0, 300)}: ${JSON.stringify(validate.errors)}`);
}

/** Whether the named schema accepts `value`. */
export function matches(doc: Document, name: string, value: unknown): boolean {
  return schemaValidator(doc, name)(value);
}
