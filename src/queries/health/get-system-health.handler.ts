import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { componentNames } from '../../events/anomaly-detected.event.js';
import { ProblemError } from '../../http/problem.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import '../../read-side/read-side.tables.js';
import { HEALTH_CACHE } from '../../read-side/read-side.tokens.js';
import type { HealthCache } from './health-cache.js';
import { GetSystemHealthQuery, type EquipmentHealth, type HealthStatus, type SystemHealth } from './get-system-health.query.js';
import { UNKNOWN_SYSTEM } from '../known-system.js';

/** Ten 60-s duty cycles: an anomaly older than that relative to the newest reading no longer drives the status. */
export const HEALTH_LOOKBACK_SECONDS = 600;
const RANK: Record<HealthStatus, number> = { ok: 0, low: 1, medium: 2, high: 3, critical: 4 };

function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[b] > RANK[a] ? b : a;
}

/** Current status per equipment and component from the newest live anomaly windows (feedback "false_positive" ignored). */
export async function computeSystemHealth(database: Database, systemId: string): Promise<SystemHealth | undefined> {
  const db = database.db;
  const equipment = await db
    .selectFrom('system_equipment')
    .select(['equipment_id', 'last_reading_at'])
    .where('system_id', '=', systemId)
    .orderBy('equipment_id')
    .execute();
  if (equipment.length === 0) return undefined;
  const { rows: open } = await sql<{ equipment_id: string; n: number }>`
    select equipment_id, count(*)::int as n from anomaly_trend_windows
    where system_id = ${systemId} and source = 'live' and is_anomaly and feedback is null
    group by equipment_id`.execute(db);
  const { rows: latest } = await sql<{
    equipment_id: string;
    component: string;
    severity: string;
    condition: number | null;
    probability: number | null;
    event_id: string | null;
    window_start: Date;
    model_version: string;
  }>`
    select distinct on (w.equipment_id, c.key) w.equipment_id, c.key as component, w.severity,
      (c.value->>'condition')::float8 as condition, (c.value->>'probability')::float8 as probability,
      w.event_id, w.window_start, w.model_version
    from anomaly_trend_windows w
    join system_equipment e on e.system_id = w.system_id and e.equipment_id = w.equipment_id
    cross join lateral jsonb_each(w.components) c
    where w.system_id = ${systemId} and w.source = 'live' and w.is_anomaly
      and w.window_end >= e.last_reading_at - make_interval(secs => ${HEALTH_LOOKBACK_SECONDS})
      and (w.feedback is null or w.feedback <> 'false_positive')
      and (w.affected_component = c.key or (c.value->>'degraded') = 'true')
    order by w.equipment_id, c.key, w.window_end desc, w.model_version`.execute(db);

  const openBy = new Map(open.map((o) => [o.equipment_id, o.n]));
  let systemStatus: HealthStatus = 'ok';
  const items: EquipmentHealth[] = equipment.map((e) => {
    const components: EquipmentHealth['components'] = {};
    for (const c of componentNames) {
      components[c] = { status: 'ok', condition: null, probability: null, anomaly_id: null, window_start: null, model_version: null };
    }
    let status: HealthStatus = 'ok';
    for (const r of latest.filter((l) => l.equipment_id === e.equipment_id)) {
      const s = (r.severity in RANK ? r.severity : 'low') as HealthStatus;
      components[r.component] = {
        status: s,
        condition: r.condition,
        probability: r.probability,
        anomaly_id: r.event_id,
        window_start: new Date(r.window_start).toISOString(),
        model_version: r.model_version,
      };
      status = worst(status, s);
    }
    systemStatus = worst(systemStatus, status);
    return {
      equipment_id: e.equipment_id,
      status,
      last_reading_at: new Date(e.last_reading_at).toISOString(),
      open_anomalies: openBy.get(e.equipment_id) ?? 0,
      components,
    };
  });
  return {
    system_id: systemId,
    status: systemStatus,
    generated_at: new Date().toISOString(),
    lookback_seconds: HEALTH_LOOKBACK_SECONDS,
    equipment: items,
  };
}

@QueryHandler(GetSystemHealthQuery)
export class GetSystemHealthHandler implements IQueryHandler<GetSystemHealthQuery, SystemHealth> {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(HEALTH_CACHE) private readonly cache: HealthCache,
  ) {}

  async execute({ systemId }: GetSystemHealthQuery): Promise<SystemHealth> {
    const { value } = await this.cache.getOrCompute(systemId, async () => (await computeSystemHealth(this.database, systemId)) ?? null);
    // the same rule and answer as every route under /api/v1/systems/{id} (known-system.ts): no equipment, no system
    if (!value) throw new ProblemError('notFound', `no system ${systemId}`, [{ field: 'id', message: UNKNOWN_SYSTEM }]);
    return value;
  }
}
