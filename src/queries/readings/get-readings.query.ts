import { z } from 'zod';
import { afterCursorParam } from '../after-cursor.param.js';
import { decodeReadingsCursor } from './readings-cursor.js';

export const getReadingsParams = z.strictObject({
  sensor_id: z.string().min(1).max(128).optional(),
  equipment_id: z.string().min(1).max(128).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000).meta({ description: 'Most items per page (a page also ends at about 4 MiB)' }),
  after: afterCursorParam(decodeReadingsCursor, 'Opaque cursor: the `next` of the previous page (a page ends at `limit` items or about 4 MiB)', 1000),
});

export type GetReadingsParams = z.infer<typeof getReadingsParams>;

export class GetReadingsQuery {
  constructor(
    readonly systemId: string,
    readonly params: GetReadingsParams,
  ) {}
}

export interface ReadingItem {
  system_id: string;
  equipment_id: string;
  sensor_id: string;
  ts: string;
  v: number;
  unit: string | null;
  meta: Record<string, unknown> | null;
}
