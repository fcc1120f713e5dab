import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { GetReadingsQuery, type ReadingItem } from './get-readings.query.js';

@QueryHandler(GetReadingsQuery)
export class GetReadingsHandler implements IQueryHandler<GetReadingsQuery, { items: ReadingItem[] }> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ systemId, params }: GetReadingsQuery): Promise<{ items: ReadingItem[] }> {
    let q = this.database.db
      .selectFrom('sensor_readings')
      .select(['system_id', 'equipment_id', 'sensor_id', 'ts', 'v', 'unit', 'meta'])
      .where('system_id', '=', systemId);
    if (params.sensor_id) q = q.where('sensor_id', '=', params.sensor_id);
    if (params.equipment_id) q = q.where('equipment_id', '=', params.equipment_id);
    if (params.from) q = q.where('ts', '>=', new Date(params.from));
    if (params.to) q = q.where('ts', '<', new Date(params.to));
    const rows = await q.orderBy('ts').orderBy('sensor_id').orderBy('equipment_id').limit(params.limit).execute();
    return {
      items: rows.map((r) => ({ ...r, ts: new Date(r.ts).toISOString(), meta: (r.meta as Record<string, unknown> | null) ?? null })),
    };
  }
}
