import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import '../read-side.tables.js';
import type { ComparedWindow } from './compare-versions.js';

/**
 * The windows of one version: its re-projection when there is one (every scored window), otherwise what
 * production recorded with it (anomalous windows only).
 */
export async function loadVersionWindows(
  database: Database,
  version: string,
  systemId?: string,
): Promise<{ source: 'live' | 'reprojection'; windows: ComparedWindow[] }> {
  const db = database.db;
  const system = systemId ? sql`and system_id = ${systemId}` : sql``;
  const { rows: found } = await sql<{ n: number }>`select count(*)::int as n from anomaly_trend_windows
    where model_version = ${version} and source = 'reprojection' ${system}`.execute(db);
  const source = (found[0]?.n ?? 0) > 0 ? 'reprojection' : 'live';
  const { rows } = await sql<{
    system_id: string;
    equipment_id: string;
    window_start: Date;
    is_anomaly: boolean;
    affected_component: string | null;
    degraded: string[] | null;
  }>`
    select system_id, equipment_id, window_start, is_anomaly, affected_component,
      (select array_agg(c.key order by c.key) from jsonb_each(components) c where (c.value->>'degraded') = 'true') as degraded
    from anomaly_trend_windows
    where model_version = ${version} and source = ${source} ${system}
    order by system_id, equipment_id, window_start`.execute(db);
  return {
    source,
    windows: rows.map((r) => ({
      systemId: r.system_id,
      equipmentId: r.equipment_id,
      windowStart: new Date(r.window_start).getTime(),
      isAnomaly: r.is_anomaly,
      affectedComponent: r.affected_component,
      degraded: r.degraded ?? [],
    })),
  };
}
