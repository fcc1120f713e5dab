import { z } from 'zod';
import { afterCursorParam } from '../after-cursor.param.js';

export interface QuarantineCursor {
  quarantinedAt: string;
  batchId: string;
  row: number;
}

/** Opaque keyset cursor: (quarantined_at, batch_id, row) of the last row of the previous page. */
export function encodeQuarantineCursor(c: QuarantineCursor): string {
  return Buffer.from(`${c.quarantinedAt}|${c.batchId}|${c.row}`).toString('base64url');
}

export function decodeQuarantineCursor(text: string): QuarantineCursor | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z)\|([0-9a-f-]{36})\|(\d{1,9})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return m && z.uuid().safeParse(m[2]).success && !Number.isNaN(Date.parse(m[1]!)) ? { quarantinedAt: m[1]!, batchId: m[2]!, row: Number(m[3]) } : undefined;
}

export const getQuarantineParams = z.strictObject({
  system_id: z.string().min(1).max(128).optional(),
  batch_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  after: afterCursorParam(decodeQuarantineCursor, 'Opaque cursor: the `next` of the previous page (a page ends at `limit` rows or about 4 MiB)'),
});

export type GetQuarantineParams = z.infer<typeof getQuarantineParams>;

export class GetQuarantineQuery {
  constructor(readonly params: GetQuarantineParams) {}
}

export interface QuarantineItem {
  batch_id: string;
  row: number;
  system_id: string | null;
  raw: unknown;
  raw_bytes: number | null;
  raw_sha256: string | null;
  raw_truncated: boolean;
  reasons: { field: string; message: string }[];
  quarantined_at: string;
}
