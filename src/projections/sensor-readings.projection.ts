import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store/event-store.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../events/readings-ingested.event.js';
import type { Projection, ProjectionContext } from './projection.js';

/** One sample as sensor_readings stores it (migrations/0006): objects keyed by sensor id. */
interface Row {
  system_id: string;
  equipment_id: string;
  ts: string;
  sensor_values: Record<string, number>;
  units: Record<string, string> | null;
  meta: Record<string, unknown> | null;
  event_id: string;
}

const ROWS_PER_STATEMENT = 2000;

/**
 * One row per (system, equipment, ts). A later event for the same sample replaces the values of the sensors it
 * carries (with their unit and meta, or the lack of one) and keeps the others: last write wins per sensor, as
 * if each value were its own row.
 */
export class SensorReadingsProjection implements Projection {
  readonly name = 'sensor_readings';
  readonly partitioned = true;
  readonly tables = ['sensor_readings'] as const;

  async apply({ trx, schema }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    // One statement may not touch the same key twice: samples repeated inside the batch are merged here first.
    const rows = new Map<string, Row>();
    for (const event of events) {
      if (event.type !== READINGS_INGESTED) continue;
      const d = event.data as ReadingsIngestedData;
      const prefix = `${d.systemId}\u0000${d.equipmentId}\u0000`;
      for (const sample of d.samples) {
        const units = unitsOf(sample.values, d.units);
        const meta = sample.meta && Object.keys(sample.meta).length > 0 ? sample.meta : null;
        const key = prefix + sample.ts;
        const earlier = rows.get(key);
        if (!earlier) {
          rows.set(key, { system_id: d.systemId, equipment_id: d.equipmentId, ts: sample.ts, sensor_values: { ...sample.values }, units, meta, event_id: event.eventId });
          continue;
        }
        const replaced = Object.keys(sample.values);
        Object.assign(earlier.sensor_values, sample.values);
        earlier.units = merge(earlier.units, replaced, units);
        earlier.meta = merge(earlier.meta, replaced, meta);
        earlier.event_id = event.eventId;
      }
    }
    const all = [...rows.values()];
    const table = sql.table(`${schema}.sensor_readings`);
    for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) {
      const chunk = JSON.stringify(all.slice(i, i + ROWS_PER_STATEMENT));
      // On conflict the stored sample keeps the sensors this one does not carry (jsonb `-` drops the replaced keys).
      await sql`
        insert into ${table} as r (system_id, equipment_id, ts, sensor_values, units, meta, event_id)
        select system_id, equipment_id, ts, sensor_values, units, meta, event_id
        from jsonb_to_recordset(${chunk}::jsonb) as x(system_id text, equipment_id text, ts timestamptz,
          sensor_values jsonb, units jsonb, meta jsonb, event_id uuid)
        on conflict (system_id, equipment_id, ts) do update set
          sensor_values = r.sensor_values || excluded.sensor_values,
          units = nullif(coalesce(r.units - array(select jsonb_object_keys(excluded.sensor_values)), '{}') || coalesce(excluded.units, '{}'), '{}'),
          meta = nullif(coalesce(r.meta - array(select jsonb_object_keys(excluded.sensor_values)), '{}') || coalesce(excluded.meta, '{}'), '{}'),
          event_id = excluded.event_id`.execute(trx);
    }
  }
}

/** The event's units restricted to the sensors of this sample; null when none has one. */
function unitsOf(values: Record<string, number>, units: Record<string, string>): Record<string, string> | null {
  let out: Record<string, string> | null = null;
  for (const sensor in units) if (sensor in values) (out ??= {})[sensor] = units[sensor]!;
  return out;
}

/** `earlier` without the replaced sensors, then `later`'s entries; null when empty. */
function merge<T>(earlier: Record<string, T> | null, replaced: readonly string[], later: Record<string, T> | null): Record<string, T> | null {
  const out: Record<string, T> = { ...(earlier ?? {}) };
  for (const sensor of replaced) delete out[sensor];
  Object.assign(out, later ?? {});
  return Object.keys(out).length > 0 ? out : null;
}
