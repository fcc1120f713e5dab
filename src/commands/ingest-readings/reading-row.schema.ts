import { z } from 'zod';
import { isStorableJson, isStorableText, UNSTORABLE_TEXT } from './storable-text.js';

const identifier = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits and . _ : - (starting with a letter or digit)');

const MIN_TS = Date.UTC(1970, 0, 1);
const MAX_TS = Date.UTC(2200, 0, 1);

/** One reading in the seed's long format. Unknown fields are errors, not silently dropped. */
export const readingRowSchema = z.strictObject({
  system_id: identifier,
  equipment_id: identifier,
  sensor_id: identifier,
  ts: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be an ISO-8601 string') })
    .superRefine((ts, ctx) => {
      if (!z.iso.datetime({ offset: true }).safeParse(ts).success) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date-time with a zone (Z or ±hh:mm)' });
        return;
      }
      const t = Date.parse(ts);
      if (!(t >= MIN_TS && t < MAX_TS) || calendarDate(ts) === 'invalid') {
        ctx.addIssue({ code: 'custom', message: 'must be a real calendar date between 1970 and 2200' });
      }
    }),
  v: z.number({ error: (i) => (i.input === undefined ? 'is required' : 'must be a finite number') }),
  unit: z.string().max(32, 'must be at most 32 characters').refine(isStorableText, UNSTORABLE_TEXT).optional(),
  meta: z
    .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
    .refine((m) => JSON.stringify(m).length <= 4096, 'must be at most 4 KiB of JSON')
    .refine((m) => isStorableJson(JSON.stringify(m)), UNSTORABLE_TEXT)
    .optional(),
});

export type ReadingRow = z.infer<typeof readingRowSchema>;
export const READING_FIELDS = Object.keys(readingRowSchema.shape) as (keyof ReadingRow)[];

/** 'invalid' when the calendar date does not exist (Date would roll 2023-02-29 into March). */
function calendarDate(ts: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(ts);
  if (!m) return 'invalid';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d ? 'ok' : 'invalid';
}
