import { ProblemError } from '../problem.js';

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\ufffd/;

/**
 * Path and query text that no identifier, cursor or version can hold and PostgreSQL cannot take as a bind
 * value (U+0000; lone surrogates; U+FFFD, what a broken %-encoding decodes to): a 400 naming the field,
 * for every route at once, instead of a database error.
 */
export function checkRequestText(params: unknown, query: unknown): void {
  const errors: { field: string; message: string }[] = [];
  const scan = (values: unknown) => {
    if (!values || typeof values !== 'object') return;
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      const texts = Array.isArray(value) ? value : [value];
      if (UNSTORABLE.test(key) || texts.some((t) => typeof t === 'string' && UNSTORABLE.test(t)))
        errors.push({ field: UNSTORABLE.test(key) ? '(query key)' : key, message: 'must not contain NUL, unpaired surrogates or invalid %-encoding' });
    }
  };
  scan(params);
  scan(query);
  if (errors.length) throw new ProblemError('validation', `path or query has ${errors.length} invalid field(s)`, errors);
}
