import type { z } from 'zod';

/** A zod error as the one-line list every refusal of a parsed file prints: `path: message; path: message`. */
export function schemaProblems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
