import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import type { DetectorHolder } from '../../inference/inference-saga.module.js';
import { ANOMALY_DETECTOR } from '../../inference/window-scorer.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { toOperatingConditionsItem, type OperatingConditions } from '../../events/anomaly-detected.event.js';
import { decodeCursor, encodeCursor } from './anomaly-cursor.js';
import { GetAnomaliesQuery, type AnomaliesPage } from './get-anomalies.query.js';
import { requireKnownSystem } from '../known-system.js';

/** Recorded anomalies of one system, newest window first, keyset-paginated on (window_start desc, event_id). */
@QueryHandler(GetAnomaliesQuery)
export class GetAnomaliesHandler implements IQueryHandler<GetAnomaliesQuery, AnomaliesPage> {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(ANOMALY_DETECTOR) private readonly detector: DetectorHolder,
  ) {}

  async execute({ systemId, params }: GetAnomaliesQuery): Promise<AnomaliesPage> {
    const version = params.model_version ?? (await this.activeVersion());
    let q = this.database.db
      .selectFrom('anomaly_results')
      .select([
        'event_id',
        'system_id',
        'equipment_id',
        'window_start',
        'window_end',
        'score',
        'severity',
        'affected_component',
        'components',
        'confidence',
        'model_version',
        'feedback',
        'operating_conditions',
      ])
      .where('system_id', '=', systemId)
      .where('is_anomaly', '=', true);
    if (version) q = q.where('model_version', '=', version);
    if (params.from) q = q.where('window_start', '>=', new Date(params.from));
    if (params.to) q = q.where('window_start', '<', new Date(params.to));
    if (params.severity?.length) q = q.where('severity', 'in', params.severity);
    if (params.component?.length) q = q.where('affected_component', 'in', params.component);
    if (params.equipment_id) q = q.where('equipment_id', '=', params.equipment_id);
    if (params.verdict?.length) {
      const given = params.verdict.filter((v) => v !== 'none');
      const none = params.verdict.includes('none');
      q = q.where((eb) => eb.or([...(given.length ? [eb('feedback', 'in', given)] : []), ...(none ? [eb('feedback', 'is', null)] : [])]));
    }
    const cursor = params.cursor ? decodeCursor(params.cursor) : undefined;
    if (cursor) {
      const w = new Date(cursor.windowStart);
      q = q.where((eb) => eb.or([eb('window_start', '<', w), eb.and([eb('window_start', '=', w), eb('event_id', '>', cursor.eventId)])]));
    }
    const rows = await q.orderBy('window_start', 'desc').orderBy('event_id', 'asc').limit(params.limit + 1).execute();
    // an empty page is only an answer for a known system (known-system.ts)
    if (rows.length === 0) await requireKnownSystem(this.database, systemId);
    const page = rows.slice(0, params.limit);
    const items = page.map((r) => ({
      event_id: r.event_id,
      system_id: r.system_id,
      equipment_id: r.equipment_id,
      window_start: new Date(r.window_start).toISOString(),
      window_end: new Date(r.window_end).toISOString(),
      score: Number(r.score),
      severity: r.severity as AnomaliesPage['items'][number]['severity'],
      affected_component: r.affected_component as AnomaliesPage['items'][number]['affected_component'],
      components: r.components as AnomaliesPage['items'][number]['components'],
      confidence: Number(r.confidence),
      model_version: r.model_version,
      feedback: r.feedback as AnomaliesPage['items'][number]['feedback'],
      operating_conditions: toOperatingConditionsItem(r.operating_conditions as OperatingConditions | null),
    }));
    const last = items[items.length - 1];
    return { items, next_cursor: rows.length > params.limit && last ? encodeCursor({ windowStart: last.window_start, eventId: last.event_id }) : null };
  }

  /** The promoted version of the loaded profile, else the loaded model's version. */
  private async activeVersion(): Promise<string | undefined> {
    const scorer = this.detector.scorer as ({ profile?: string; version: string } | null);
    try {
      const { rows } = await sql<{ model_version: string }>`
        select model_version from active_model_versions where profile = ${scorer?.profile ?? 'hydraulic-17'}`.execute(this.database.db);
      if (rows[0]) return rows[0].model_version;
    } catch {
      // No promotion read model in this deployment: fall back to the loaded model.
    }
    return scorer?.version;
  }
}
