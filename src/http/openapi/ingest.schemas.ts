import { z } from 'zod';
import { readingRowSchema } from '../../commands/ingest-readings/reading-row.schema.js';

/**
 * Ingest's documented contract. The body is parsed row by row (src/commands/ingest-readings/parse-batch.ts,
 * with readingRowSchema): a row that breaks a rule is quarantined with reasons, not rejected, so the request
 * schema must accept any row-shaped object. A valid row is a `ReadingRow`; the rules are the quarantine rules.
 */
export const readingRow = readingRowSchema.meta({ id: 'ReadingRow', description: 'One sensor value (long format), as it is stored' });

/** The quarantine rules, one per field, as documented for clients (the schema's messages say the same). */
export const QUARANTINE_RULES = [
  '`system_id`, `equipment_id`, `sensor_id`: required; 1-128 letters, digits and `. _ : -`, starting with a letter or digit',
  '`ts`: required; ISO-8601 date-time with a zone (`Z` or `±hh:mm`), a real calendar date between 1970 and 2200',
  "`v`: required; a finite number; for a sensor of the loaded model's profile, within its physical range (e.g. PS1 -1 to 221 bar)",
  '`unit`: optional; at most 32 characters',
  '`meta`: optional; a JSON object of at most 4 KiB',
  'no other field',
];

// Any JSON value: parse-batch quarantines a row that is not an object as a whole (field `row`), like any bad row.
export const ingestRow = z
  .union([readingRow, z.looseObject({}), z.array(z.unknown()), z.string(), z.number(), z.boolean(), z.null()])
  .meta({
    id: 'IngestRow',
    description:
      'A row as it may be sent. A row that is a valid `ReadingRow` is accepted; any other object, or any other JSON ' +
      'value (quarantined with field `row`), is accepted too and quarantined (200, listed in `errors` with row, field ' +
      'and reason; see GET /api/v1/quarantine). The quarantine rules:\n' +
      QUARANTINE_RULES.map((r) => `- ${r}`).join('\n'),
  });

export const ingestJsonBody = z
  .union([z.array(ingestRow).min(1), z.object({ readings: z.array(ingestRow).min(1) })])
  .meta({ id: 'IngestJsonBody', description: 'An array of rows, or {"readings": [...]}' });

export const ingestCsvBody = z
  .string()
  .meta({ description: 'CSV with a header row: system_id,equipment_id,sensor_id,ts,v[,unit][,meta]; meta is a JSON object' });

export const ingestResult = z
  .object({
    batch_id: z.uuid().meta({ description: 'Derived from Idempotency-Key when given, so a retry returns the same id' }),
    accepted: z.number().int().min(0),
    quarantined: z.number().int().min(0),
    errors: z
      .array(z.object({ row: z.number().int(), field: z.string(), message: z.string() }))
      .meta({ description: 'The first errors, by row: at most 1,000 and about 512 KiB of them (`errors_total` says how many there are)' }),
    errors_total: z.number().int().min(0).meta({ description: "Errors of the batch in all (each row's reasons are bounded at 20 and a count)" }),
    more_errors: z
      .string()
      .nullable()
      .meta({ description: 'When `errors` does not list them all: the quarantine query (by batch id) listing every quarantined row of the batch with all its reasons, paged with `next`; null otherwise' }),
  })
  .meta({ id: 'IngestResult' });

export const ingestHeaders = z.object({
  'Idempotency-Key': z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/)
    .optional()
    .meta({ description: 'A retry with the same key and body returns the first result and appends nothing' }),
});
