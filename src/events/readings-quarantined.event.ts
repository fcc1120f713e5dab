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

/** v2 adds `errorCount` (all errors of all rows) so consumers can rank batches without walking the rows. */
export const readingsQuarantinedV2 = readingsQuarantinedV1.extend({
  errorCount: z.number().int().nonnegative(),
});

export type ReadingsQuarantinedDataV1 = z.infer<typeof readingsQuarantinedV1>;
export type ReadingsQuarantinedData = z.infer<typeof readingsQuarantinedV2>;

/** v1 -> v2: the count is derived from the rows v1 already carries, so old events upcast exactly. */
export function upcastReadingsQuarantinedV1(data: unknown): unknown {
  const v1 = data as ReadingsQuarantinedDataV1;
  return { ...v1, errorCount: countErrors(v1.rows) };
}

export function countErrors(rows: readonly { errors: readonly unknown[] }[]): number {
  return rows.reduce((n, r) => n + r.errors.length, 0);
}
export const READINGS_QUARANTINED = 'ReadingsQuarantined';
