import { z } from 'zod';

/** Response schemas of the skeleton's readings and quarantine queries (documented for /openapi.json). */
export const readingItem = z
  .object({
    system_id: z.string(),
    equipment_id: z.string(),
    sensor_id: z.string(),
    ts: z.iso.datetime(),
    v: z.number(),
    unit: z.string().nullable(),
    meta: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'Reading' });

export const readingsResponse = z
  .object({
    items: z.array(readingItem),
    next: z.string().nullable().meta({ description: 'Cursor (`after`) of the next page; null on the last page' }),
  })
  .meta({ id: 'Readings' });

export const quarantineItem = z
  .object({
    batch_id: z.uuid(),
    row: z.number().int(),
    system_id: z.string().nullable(),
    raw: z.unknown().meta({ description: 'The row as sent (JSON value, or the CSV line); when raw_truncated, the first 4 KiB of its text' }),
    raw_bytes: z.number().int().nullable().meta({ description: "Size of the row's whole text in bytes (JSON of a JSON row, the CSV line)" }),
    raw_sha256: z.string().nullable().meta({ description: "SHA-256 (hex) of the row's whole text; null for rows quarantined before it was recorded" }),
    raw_truncated: z.boolean().meta({ description: 'raw is a prefix of the text (the row was larger than 4 KiB)' }),
    reasons: z.array(z.object({ field: z.string(), message: z.string() })),
    quarantined_at: z.iso.datetime(),
  })
  .meta({ id: 'QuarantinedRow' });

export const quarantineResponse = z
  .object({
    items: z.array(quarantineItem),
    next: z.string().nullable().meta({ description: 'Cursor (`after`) of the next page; null on the last page' }),
  })
  .meta({ id: 'QuarantinedRows' });
