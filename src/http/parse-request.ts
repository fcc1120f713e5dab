import type { z } from 'zod';
import { ProblemError, type FieldError } from './problem.js';

export function zodFieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ field: prefix + k, message: 'is not a known field' }))
      : [{ field: prefix + (issue.path.map(String).join('.') || '(root)'), message: issue.message }],
  );
}

/** Validates query, params or body with zod; a failure is a 400 problem naming every field. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'body' | 'path'): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new ProblemError('validation', `${where} has ${result.error.issues.length} invalid field(s)`, zodFieldErrors(result.error));
}
