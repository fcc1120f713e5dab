import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { requireKnownSystem } from '../known-system.js';
import { GetSensorCurvesQuery, type SensorCurves } from './get-sensor-curves.query.js';

/**
 * Min and max per sensor and bucket (width_bucket over the range), aggregated in the database: the answer holds at
 * most `points` buckets per sensor whatever the sample rate, so a 100 Hz window costs the browser what a 1 Hz one does.
 */
@QueryHandler(GetSensorCurvesQuery)
export class GetSensorCurvesHandler implements IQueryHandler<GetSensorCurvesQuery, SensorCurves> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ systemId, params }: GetSensorCurvesQuery): Promise<SensorCurves> {
    const { from, to, points } = params;
    const { rows } = await sql<{ sensor_id: string; b: number; lo: number; hi: number; unit: string | null }>`
      select s.key as sensor_id,
        width_bucket(extract(epoch from r.ts)::float8, ${from.getTime() / 1000}::float8, ${to.getTime() / 1000}::float8, ${points}::int) as b,
        min(s.value::float8) as lo, max(s.value::float8) as hi, max(r.units ->> s.key) as unit
      from sensor_readings r cross join lateral jsonb_each(r.sensor_values) as s
      where r.system_id = ${systemId} and r.equipment_id = ${params.equipment_id}
        and r.ts >= ${from.toISOString()}::timestamptz and r.ts < ${to.toISOString()}::timestamptz
        and jsonb_typeof(s.value) = 'number'
      group by 1, 2`.execute(this.database.db);
    if (rows.length === 0) await requireKnownSystem(this.database, systemId);
    const bucketMs = (to.getTime() - from.getTime()) / points;
    const buckets = [...new Set(rows.map((r) => Number(r.b)))].sort((a, b) => a - b);
    const index = new Map(buckets.map((b, i) => [b, i]));
    const sensors = new Map<string, { sensor_id: string; unit: string | null; min: (number | null)[]; max: (number | null)[] }>();
    for (const r of rows) {
      let s = sensors.get(r.sensor_id);
      if (!s) sensors.set(r.sensor_id, (s = { sensor_id: r.sensor_id, unit: null, min: buckets.map(() => null), max: buckets.map(() => null) }));
      const i = index.get(Number(r.b))!;
      s.min[i] = Number(r.lo);
      s.max[i] = Number(r.hi);
      s.unit ??= r.unit;
    }
    return {
      system_id: systemId,
      equipment_id: params.equipment_id,
      from: from.toISOString(),
      to: to.toISOString(),
      bucket_ms: bucketMs,
      // width_bucket numbers the buckets from 1
      t: buckets.map((b) => Math.round(from.getTime() + (b - 1) * bucketMs)),
      sensors: [...sensors.values()].sort((a, b) => a.sensor_id.localeCompare(b.sensor_id, 'en', { numeric: true })),
    };
  }
}
