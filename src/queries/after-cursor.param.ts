import { z } from 'zod';

/**
 * The `after` query parameter of a paged list: an opaque cursor the service issued as `next`, decoded here, so a
 * cursor it did not issue is a 400 naming `after` rather than a wrong page.
 */
export function afterCursorParam<T>(decode: (text: string) => T | null | undefined, description: string, maxLength = 200) {
  return z
    .string()
    .max(maxLength)
    .transform((v, ctx) => {
      const cursor = decode(v);
      if (!cursor) ctx.addIssue({ code: 'custom', message: 'is not a cursor returned as `next`' });
      return cursor ?? undefined;
    })
    .optional()
    .meta({ description });
}
