import { z } from 'zod';
import { afterCursorParam } from '../after-cursor.param.js';
import { systemIdParam } from '../system-id.param.js';

/** Opaque cursor = the system id of the last item of the previous page (base64url). */
export function encodeSystemsCursor(systemId: string): string {
  return Buffer.from(systemId).toString('base64url');
}

export function decodeSystemsCursor(text: string): string | undefined {
  const id = Buffer.from(text, 'base64url').toString('utf8');
  return systemIdParam.safeParse(id).success ? id : undefined;
}

export const listSystemsParams = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000).meta({ description: 'Most systems per page (a page also ends at about 4 MiB)' }),
  after: afterCursorParam(decodeSystemsCursor, 'Opaque cursor: the `next` of the previous page (a page ends at `limit` systems or about 4 MiB)'),
});

export type ListSystemsParams = z.infer<typeof listSystemsParams>;

export class ListSystemsQuery {
  constructor(readonly params: ListSystemsParams = { limit: 10_000 }) {}
}

export interface SystemEquipmentItem {
  equipment_id: string;
  first_reading_at: string;
  last_reading_at: string;
  samples: number;
  open_anomalies: number;
}

export interface SystemItem {
  system_id: string;
  last_reading_at: string;
  /** Live anomalies without feedback yet (neither confirmed nor dismissed). */
  open_anomalies: number;
  equipment: SystemEquipmentItem[];
}

export const listSystemsResponse = z
  .object({
    items: z.array(
      z.object({
        system_id: z.string(),
        last_reading_at: z.string(),
        open_anomalies: z.number().int().nonnegative().meta({ description: 'Live anomalies without feedback yet' }),
        equipment: z.array(
          z.object({
            equipment_id: z.string(),
            first_reading_at: z.string(),
            last_reading_at: z.string(),
            samples: z.number().int().nonnegative(),
            open_anomalies: z.number().int().nonnegative(),
          }),
        ),
      }),
    ),
    next: z.string().nullable().meta({ description: 'Cursor (`after`) of the next page; null on the last page' }),
  })
  .meta({ id: 'SystemList' });
