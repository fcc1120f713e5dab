import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { requireKnownSystem } from '../known-system.js';
import { withinBudget } from '../response-budget.js';
import { GetReadingsQuery, type ReadingItem } from './get-readings.query.js';
import { encodeReadingsCursor } from './readings-cursor.js';

/** One item per value, unfolded from the per-sample rows of sensor_readings (migrations/0006). */
@QueryHandler(GetReadingsQuery)
export class GetReadingsHandler implements IQueryHandler<GetReadingsQuery, { items: ReadingItem[]; next: string | null }> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ systemId, params }: GetReadingsQuery): Promise<{ items: ReadingItem[]; next: string | null }> {
    const where = [sql`r.system_id = ${systemId}`];
    // `?` on the object lets the index scan skip samples without the sensor before unfolding them.
    if (params.sensor_id) where.push(sql`r.sensor_values ? ${params.sensor_id}`, sql`s.key = ${params.sensor_id}`);
    if (params.equipment_id) where.push(sql`r.equipment_id = ${params.equipment_id}`);
    if (params.from) where.push(sql`r.ts >= ${new Date(params.from).toISOString()}::timestamptz`);
    if (params.to) where.push(sql`r.ts < ${new Date(params.to).toISOString()}::timestamptz`);
    if (params.after) {
      const { ts, sensorId, equipmentId } = params.after;
      // the plain `r.ts >=` lets the (system_id, ts) index start at the cursor; the row comparison is the keyset
      where.push(sql`r.ts >= ${ts}::timestamptz`, sql`(r.ts, s.key, r.equipment_id) > (${ts}::timestamptz, ${sensorId}, ${equipmentId})`);
    }
    const { rows } = await sql<{ system_id: string; equipment_id: string; sensor_id: string; ts: Date; ts_text: string; v: number; unit: string | null; meta: Record<string, unknown> | null }>`
      select r.system_id, r.equipment_id, s.key as sensor_id, r.ts, s.value::float8 as v, r.units ->> s.key as unit, r.meta -> s.key as meta,
        to_char(r.ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ts_text
      from sensor_readings r cross join lateral jsonb_each(r.sensor_values) as s
      where ${sql.join(where, sql` and `)}
      order by r.ts, s.key, r.equipment_id
      limit ${params.limit + 1}`.execute(this.database.db);
    // an empty answer is only an answer for a known system (known-system.ts)
    if (rows.length === 0) await requireKnownSystem(this.database, systemId);
    // A page ends at `limit` items or at about 4 MiB (meta of up to 4 KiB per reading), whichever comes first.
    const items = withinBudget(
      rows.slice(0, params.limit).map((r) => ({
        system_id: r.system_id,
        equipment_id: r.equipment_id,
        sensor_id: r.sensor_id,
        ts: new Date(r.ts).toISOString(),
        v: Number(r.v),
        unit: r.unit,
        meta: r.meta ?? null,
      })),
    );
    const last = rows[items.length - 1];
    return {
      items,
      next: rows.length > items.length && last ? encodeReadingsCursor({ ts: last.ts_text, sensorId: last.sensor_id, equipmentId: last.equipment_id }) : null,
    };
  }
}
