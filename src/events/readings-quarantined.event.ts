import { z } from 'zod';

export const rowErrorSchema = z.object({ field: z.string(), message: z.string() });
export type RowError = z.infer<typeof rowErrorSchema>;

export const readingsQuarantinedV1 = z.object({
  batchId: z.uuid(),
  /** null when the row carried no usable system id. */
  systemId: z.string().nullable(),
  source: z.enum(['json', 'csv']),
  rows: z.array(
    z.object({
      /** 1-based position among the batch's data rows (the CSV header is not counted). */
      row: z.number().int().positive(),
      raw: z.unknown(),
      errors: z.array(rowErrorSchema).min(1),
    }),
  ),
});

export type ReadingsQuarantinedData = z.infer<typeof readingsQuarantinedV1>;
export const READINGS_QUARANTINED = 'ReadingsQuarantined';
