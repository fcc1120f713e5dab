import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import '../../read-side/read-side.tables.js';
import { withinBudget } from '../response-budget.js';
import { encodeSystemsCursor, ListSystemsQuery, type SystemItem } from './list-systems.query.js';

/**
 * Known systems from the small `system_equipment` read model (never scans sensor_readings), by system id. A page
 * ends at `limit` systems or about 4 MiB: ingest may create 100 systems a request, so the list is not small by
 * nature.
 */
@QueryHandler(ListSystemsQuery)
export class ListSystemsHandler implements IQueryHandler<ListSystemsQuery, { items: SystemItem[]; next: string | null }> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ params }: ListSystemsQuery): Promise<{ items: SystemItem[]; next: string | null }> {
    const { rows } = await sql<{
      system_id: string;
      equipment_id: string;
      first_reading_at: Date;
      last_reading_at: Date;
      samples: number;
      open_anomalies: number;
    }>`
      with page as (
        select distinct system_id from system_equipment
        where ${params.after === undefined ? sql`true` : sql`system_id > ${params.after}`}
        order by system_id limit ${params.limit + 1}
      )
      select e.system_id, e.equipment_id, e.first_reading_at, e.last_reading_at, e.samples::float8 as samples,
        coalesce(o.n, 0)::int as open_anomalies
      from system_equipment e
      left join (
        select system_id, equipment_id, count(*) as n from anomaly_trend_windows
        where source = 'live' and is_anomaly and feedback is null and system_id in (select system_id from page)
        group by system_id, equipment_id
      ) o on o.system_id = e.system_id and o.equipment_id = e.equipment_id
      where e.system_id in (select system_id from page)
      order by e.system_id, e.equipment_id`.execute(this.database.db);
    const items: SystemItem[] = [];
    for (const r of rows) {
      let system = items[items.length - 1];
      if (system?.system_id !== r.system_id) {
        system = { system_id: r.system_id, last_reading_at: new Date(r.last_reading_at).toISOString(), open_anomalies: 0, equipment: [] };
        items.push(system);
      }
      const last = new Date(r.last_reading_at).toISOString();
      if (last > system.last_reading_at) system.last_reading_at = last;
      system.open_anomalies += r.open_anomalies;
      system.equipment.push({
        equipment_id: r.equipment_id,
        first_reading_at: new Date(r.first_reading_at).toISOString(),
        last_reading_at: last,
        samples: Number(r.samples),
        open_anomalies: r.open_anomalies,
      });
    }
    const page = withinBudget(items.slice(0, params.limit));
    const last = page[page.length - 1];
    return { items: page, next: items.length > page.length && last ? encodeSystemsCursor(last.system_id) : null };
  }
}
