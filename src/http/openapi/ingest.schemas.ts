import { z } from 'zod';
import { readingRowSchema } from '../../commands/ingest-readings/reading-row.schema.js';

/**
 * Ingest's documented contract. The body is parsed row by row (src/commands/ingest-readings/parse-batch.ts,
 * with the same readingRowSchema): rows that fail are quarantined with reasons, not rejected as a whole.
 */
export const readingRow = readingRowSchema.meta({ id: 'ReadingRow', description: 'One sensor value (long format)' });

export const ingestJsonBody = z
  .union([z.array(readingRow).min(1), z.object({ readings: z.array(readingRow).min(1) })])
  .meta({ id: 'IngestJsonBody', description: 'An array of readings, or {"readings": [...]}' });

export const ingestCsvBody = z
  .string()
  .meta({ description: 'CSV with a header row: system_id,equipment_id,sensor_id,ts,v[,unit][,meta]; meta is a JSON object' });

export const ingestResult = z
  .object({
    batch_id: z.uuid().meta({ description: 'Derived from Idempotency-Key when given, so a retry returns the same id' }),
    accepted: z.number().int().min(0),
    quarantined: z.number().int().min(0),
    errors: z.array(z.object({ row: z.number().int(), field: z.string(), message: z.string() })),
  })
  .meta({ id: 'IngestResult' });

export const ingestHeaders = z.object({
  'Idempotency-Key': z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/)
    .optional()
    .meta({ description: 'A retry with the same key and body returns the first result and appends nothing' }),
});
