import type { z } from 'zod';
import { ProblemError, type FieldError } from './problem.js';

/** zod's own wording ("Invalid input: expected number, received NaN") is replaced; a schema's own message is kept. */
const ZOD_DEFAULT = /^(Invalid (input|option|string|element|key|value)|Too (small|big)|Invalid [A-Za-z0-9 -]+$)/;

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** What the field must be, in words, for zod's built-in checks. */
export function fieldMessage(issue: z.core.$ZodIssue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return /received undefined$/.test(issue.message) ? 'is required' : `must be ${article(issue.expected === 'int' ? 'integer' : issue.expected)}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? (issue.inclusive === false ? 'more than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' || issue.origin === 'set' ? ' items' : '';
      return issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set' ? `must have ${word} ${String(bound)}${unit}` : `must be ${word} ${String(bound)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'datetime' ? 'must be an ISO-8601 date-time with a zone (Z or ±hh:mm)' : `must be ${article(issue.format === 'uuid' ? 'UUID' : issue.format)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'matches none of the accepted forms';
    default:
      return issue.message;
  }
}

export function zodFieldErrors(error: z.ZodError, prefix = '', root = '(root)'): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ field: prefix + k, message: 'is not a known field' }))
      : [{ field: prefix + (issue.path.map(String).join('.') || root), message: fieldMessage(issue) }],
  );
}

/** Validates query, params or body with zod; a failure is a 400 problem naming every field. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'body' | 'path'): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new ProblemError('validation', `${where} has ${result.error.issues.length} invalid field(s)`, zodFieldErrors(result.error, '', where));
}
