import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { GetReadingsQuery, type ReadingItem } from './get-readings.query.js';
import { requireKnownSystem } from '../known-system.js';

/** One item per value, unfolded from the per-sample rows of sensor_readings (migrations/0006). */
@QueryHandler(GetReadingsQuery)
export class GetReadingsHandler implements IQueryHandler<GetReadingsQuery, { items: ReadingItem[] }> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ systemId, params }: GetReadingsQuery): Promise<{ items: ReadingItem[] }> {
    const where = [sql`r.system_id = ${systemId}`];
    // `?` on the object lets the index scan skip samples without the sensor before unfolding them.
    if (params.sensor_id) where.push(sql`r.sensor_values ? ${params.sensor_id}`, sql`s.key = ${params.sensor_id}`);
    if (params.equipment_id) where.push(sql`r.equipment_id = ${params.equipment_id}`);
    if (params.from) where.push(sql`r.ts >= ${new Date(params.from).toISOString()}::timestamptz`);
    if (params.to) where.push(sql`r.ts < ${new Date(params.to).toISOString()}::timestamptz`);
    const { rows } = await sql<{ system_id: string; equipment_id: string; sensor_id: string; ts: Date; v: number; unit: string | null; meta: Record<string, unknown> | null }>`
      select r.system_id, r.equipment_id, s.key as sensor_id, r.ts, s.value::float8 as v, r.units ->> s.key as unit, r.meta -> s.key as meta
      from sensor_readings r cross join lateral jsonb_each(r.sensor_values) as s
      where ${sql.join(where, sql` and `)}
      order by r.ts, s.key, r.equipment_id
      limit ${params.limit}`.execute(this.database.db);
    // an empty answer is only an answer for a known system (known-system.ts)
    if (rows.length === 0) await requireKnownSystem(this.database, systemId);
    return {
      items: rows.map((r) => ({ ...r, v: Number(r.v), ts: new Date(r.ts).toISOString(), meta: r.meta ?? null })),
    };
  }
}
