import { createHash } from 'node:crypto';
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

/** Most bytes of a rejected row's text that an event keeps (issue #20: one 32 MiB row was stored whole). */
export const QUARANTINE_RAW_MAX_BYTES = 4096;

/**
 * v3 bounds what a rejected row may cost: `raw` is the row as sent when its text (the JSON of a JSON row, the
 * line of a CSV row) is at most QUARANTINE_RAW_MAX_BYTES, else the first bytes of that text as a string
 * (`rawTruncated`); `rawBytes` and `rawSha256` are of the whole text, so the sender can match it.
 */
export const readingsQuarantinedV3 = readingsQuarantinedV2.extend({
  rows: z.array(
    z.object({
      row: z.number().int().positive(),
      raw: z.unknown(),
      rawBytes: z.number().int().nonnegative(),
      rawSha256: z.string().regex(/^[0-9a-f]{64}$/),
      rawTruncated: z.boolean(),
      errors: z.array(rowErrorSchema).min(1),
    }),
  ),
});

export type ReadingsQuarantinedDataV1 = z.infer<typeof readingsQuarantinedV1>;
export type ReadingsQuarantinedDataV2 = z.infer<typeof readingsQuarantinedV2>;
export type ReadingsQuarantinedData = z.infer<typeof readingsQuarantinedV3>;

/** v1 -> v2: the count is derived from the rows v1 already carries, so old events upcast exactly. */
export function upcastReadingsQuarantinedV1(data: unknown): unknown {
  const v1 = data as ReadingsQuarantinedDataV1;
  return { ...v1, errorCount: countErrors(v1.rows) };
}

/** v2 -> v3: size and hash of the text each row had (v2 kept it whole; nothing is cut when upcasting). */
export function upcastReadingsQuarantinedV2(data: unknown): unknown {
  const v2 = data as ReadingsQuarantinedDataV2;
  return {
    ...v2,
    rows: v2.rows.map((r) => {
      const text = v2.source === 'csv' && typeof r.raw === 'string' ? r.raw : (JSON.stringify(r.raw) ?? 'null');
      return { ...r, rawBytes: Buffer.byteLength(text), rawSha256: createHash('sha256').update(text).digest('hex'), rawTruncated: false };
    }),
  };
}

export function countErrors(rows: readonly { errors: readonly unknown[] }[]): number {
  return rows.reduce((n, r) => n + r.errors.length, 0);
}
export const READINGS_QUARANTINED = 'ReadingsQuarantined';
