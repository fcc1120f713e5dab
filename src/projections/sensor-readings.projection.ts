import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store/event-store.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../events/readings-ingested.event.js';
import type { Projection, ProjectionContext } from './projection.js';

interface Row {
  system_id: string;
  equipment_id: string;
  sensor_id: string;
  ts: string;
  v: number;
  unit: string | null;
  meta: Record<string, unknown> | null;
  event_id: string;
}

const ROWS_PER_STATEMENT = 5000;

/** One row per (system, sensor, ts, equipment). A later event for the same key replaces the value. */
export class SensorReadingsProjection implements Projection {
  readonly name = 'sensor_readings';
  readonly tables = ['sensor_readings'] as const;

  async apply({ trx, schema }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    // Last write wins inside the batch too: one statement may not touch the same key twice.
    const rows = new Map<string, Row>();
    for (const event of events) {
      if (event.type !== READINGS_INGESTED) continue;
      const d = event.data as ReadingsIngestedData;
      for (const sample of d.samples) {
        for (const [sensor, v] of Object.entries(sample.values)) {
          rows.set(`${d.systemId}\u0000${sensor}\u0000${sample.ts}\u0000${d.equipmentId}`, {
            system_id: d.systemId,
            equipment_id: d.equipmentId,
            sensor_id: sensor,
            ts: sample.ts,
            v,
            unit: d.units[sensor] ?? null,
            meta: sample.meta?.[sensor] ?? null,
            event_id: event.eventId,
          });
        }
      }
    }
    const all = [...rows.values()];
    const table = sql.table(`${schema}.sensor_readings`);
    for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) {
      const chunk = JSON.stringify(all.slice(i, i + ROWS_PER_STATEMENT));
      await sql`
        insert into ${table} (system_id, equipment_id, sensor_id, ts, v, unit, meta, event_id)
        select system_id, equipment_id, sensor_id, ts, v, unit, meta, event_id
        from jsonb_to_recordset(${chunk}::jsonb) as x(system_id text, equipment_id text, sensor_id text,
          ts timestamptz, v double precision, unit text, meta jsonb, event_id uuid)
        on conflict (system_id, sensor_id, ts, equipment_id)
        do update set v = excluded.v, unit = excluded.unit, meta = excluded.meta, event_id = excluded.event_id`.execute(trx);
    }
  }
}
