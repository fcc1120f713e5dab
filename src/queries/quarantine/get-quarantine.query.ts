import { z } from 'zod';

export const getQuarantineParams = z.strictObject({
  system_id: z.string().min(1).max(128).optional(),
  batch_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0).meta({ description: 'Rows to skip (paging: newest first)' }),
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
  reasons: { field: string; message: string }[];
  quarantined_at: string;
}
