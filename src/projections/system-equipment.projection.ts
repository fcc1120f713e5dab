import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store/event-store.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../events/readings-ingested.event.js';
import '../read-side/read-side.tables.js';
import type { Projection, ProjectionContext } from './projection.js';

interface Agg {
  system_id: string;
  equipment_id: string;
  first: number;
  last: number;
  samples: number;
}

/** Every system and equipment that sent readings, with first/last reading time: GET /api/v1/systems without scanning readings. */
export class SystemEquipmentProjection implements Projection {
  readonly name = 'system_equipment';
  readonly eventTypes = [READINGS_INGESTED];
  readonly tables = ['system_equipment'] as const;

  async apply({ trx, schema }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    const aggs = new Map<string, Agg>();
    for (const event of events) {
      if (event.type !== READINGS_INGESTED) continue;
      const d = event.data as ReadingsIngestedData;
      if (d.samples.length === 0) continue;
      const k = `${d.systemId}\u0000${d.equipmentId}`;
      const agg = aggs.get(k) ?? { system_id: d.systemId, equipment_id: d.equipmentId, first: Infinity, last: -Infinity, samples: 0 };
      for (const s of d.samples) {
        const t = Date.parse(s.ts);
        if (t < agg.first) agg.first = t;
        if (t > agg.last) agg.last = t;
      }
      agg.samples += d.samples.length;
      aggs.set(k, agg);
    }
    if (aggs.size === 0) return;
    const rows = [...aggs.values()].map((a) => ({
      system_id: a.system_id,
      equipment_id: a.equipment_id,
      first_reading_at: new Date(a.first).toISOString(),
      last_reading_at: new Date(a.last).toISOString(),
      samples: a.samples,
    }));
    await sql`
      insert into ${sql.table(`${schema}.system_equipment`)} as t (system_id, equipment_id, first_reading_at, last_reading_at, samples)
      select system_id, equipment_id, first_reading_at, last_reading_at, samples
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(system_id text, equipment_id text,
        first_reading_at timestamptz, last_reading_at timestamptz, samples bigint)
      on conflict (system_id, equipment_id) do update set
        first_reading_at = least(t.first_reading_at, excluded.first_reading_at),
        last_reading_at = greatest(t.last_reading_at, excluded.last_reading_at),
        samples = t.samples + excluded.samples`.execute(trx);
  }
}
