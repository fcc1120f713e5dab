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

export const readingsResponse = z.object({ items: z.array(readingItem) }).meta({ id: 'Readings' });

export const quarantineItem = z
  .object({
    batch_id: z.uuid(),
    row: z.number().int(),
    system_id: z.string().nullable(),
    raw: z.unknown().meta({ description: 'The row as sent (JSON value, or the CSV line)' }),
    reasons: z.array(z.object({ field: z.string(), message: z.string() })),
    quarantined_at: z.iso.datetime(),
  })
  .meta({ id: 'QuarantinedRow' });

export const quarantineResponse = z.object({ items: z.array(quarantineItem) }).meta({ id: 'QuarantinedRows' });
