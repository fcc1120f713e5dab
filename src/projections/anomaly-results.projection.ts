import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store/event-store.js';
import {
  ANOMALY_DETECTED,
  ANOMALY_FEEDBACK_RECORDED,
  type AnomalyDetectedData,
  type AnomalyFeedbackRecordedData,
} from '../events/anomaly-detected.event.js';
import type { Projection, ProjectionContext } from './projection.js';
import { rowInSlot } from './partitions/partition-key.sql.js';

/**
 * One row per recorded decision: (system, model version, equipment, window). The first AnomalyDetected for a
 * key wins (the saga and analyses derive the same event id for it anyway) and replaces a row the read side's
 * re-projection wrote for that key (source 'reprojection'); feedback lands on its row.
 * recorded_at is the event's created_at, so a rebuild yields identical rows.
 */
export class AnomalyResultsProjection implements Projection {
  readonly name = 'anomaly_results';
  readonly partitioned = true;
  readonly tables = ['anomaly_results', 'anomaly_feedback'] as const;

  async apply({ trx, schema, slot }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    const table = sql.table(`${schema}.anomaly_results`);
    const rows = new Map<string, Record<string, unknown>>();
    const feedback: { event: RecordedEvent; data: AnomalyFeedbackRecordedData }[] = [];
    for (const event of events) {
      if (event.type === ANOMALY_DETECTED) {
        const d = event.data as AnomalyDetectedData;
        const k = `${d.systemId}\u0000${d.modelVersion}\u0000${d.equipmentId}\u0000${d.window.from}`;
        if (rows.has(k)) continue;
        rows.set(k, {
          event_id: event.eventId,
          system_id: d.systemId,
          equipment_id: d.equipmentId,
          window_start: d.window.from,
          window_end: d.window.to,
          model_version: d.modelVersion,
          score: d.score,
          severity: d.severity,
          affected_component: d.affectedComponent,
          components: d.components,
          votes: d.votes,
          confidence: d.confidence,
          operating_conditions: d.operatingConditions ?? null,
          is_anomaly: d.severity !== 'none',
          source: d.analysisId ? 'analysis' : 'saga',
          recorded_at: event.createdAt,
          source_event_ids: d.sourceEventIds,
          correlation_id: event.metadata.correlationId ?? null,
        });
      } else if (event.type === ANOMALY_FEEDBACK_RECORDED) {
        const d = event.data as AnomalyFeedbackRecordedData;
        feedback.push({ event, data: event.data as AnomalyFeedbackRecordedData });
      }
    }
    if (rows.size > 0) {
      await sql`
        insert into ${table} (event_id, system_id, equipment_id, window_start, window_end, model, model_version, score, severity,
          affected_component, components, votes, confidence, operating_conditions, is_anomaly, source, recorded_at, source_event_ids, correlation_id)
        select event_id, system_id, equipment_id, window_start, window_end, 'ensemble', model_version, score, severity,
          affected_component, components, votes, confidence, operating_conditions, is_anomaly, source, recorded_at, source_event_ids, correlation_id
        from jsonb_to_recordset(${JSON.stringify([...rows.values()])}::jsonb) as x(event_id uuid, system_id text, equipment_id text,
          window_start timestamptz, window_end timestamptz, model_version text, score double precision, severity text,
          affected_component text, components jsonb, votes jsonb, confidence double precision, operating_conditions jsonb, is_anomaly boolean,
          source text, recorded_at timestamptz, source_event_ids jsonb, correlation_id text)
        on conflict (system_id, model_version, equipment_id, window_start) do update set
          event_id = excluded.event_id, window_end = excluded.window_end, score = excluded.score, severity = excluded.severity,
          affected_component = excluded.affected_component, components = excluded.components, votes = excluded.votes,
          confidence = excluded.confidence, operating_conditions = excluded.operating_conditions, is_anomaly = excluded.is_anomaly, source = excluded.source, recorded_at = excluded.recorded_at,
          source_event_ids = excluded.source_event_ids, correlation_id = excluded.correlation_id
        -- A recorded decision replaces a re-projection's row for the same key (whichever came first); decisions never replace each other.
        where ${table}.source = 'reprojection'`.execute(trx);
    }
    // In log order: the last verdict on an anomaly is the one shown.
    for (const { data: f } of feedback) {
      await sql`update ${table} set feedback = ${f.verdict} where event_id = ${f.anomalyId}::uuid and system_id = ${f.systemId}
        ${rowInSlot(slot, sql.ref('system_id'), sql.ref('equipment_id'))}`.execute(trx);
    }
    if (feedback.length > 0) {
      const rows = feedback.map(({ event, data }) => ({
        event_id: event.eventId,
        anomaly_id: data.anomalyId,
        system_id: data.systemId,
        actor: data.actor,
        verdict: data.verdict,
        note: data.note ?? null,
        commit_position: event.position.commit,
        prepare_position: event.position.prepare,
        recorded_at: event.createdAt,
      }));
      await sql`
        insert into ${sql.table(`${schema}.anomaly_feedback`)} (event_id, anomaly_id, system_id, actor, verdict, note, commit_position, prepare_position, recorded_at)
        select event_id, anomaly_id, system_id, actor, verdict, note, commit_position, prepare_position, recorded_at
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(event_id uuid, anomaly_id uuid, system_id text, actor text,
          verdict text, note text, commit_position bigint, prepare_position bigint, recorded_at timestamptz)
        on conflict (event_id) do nothing`.execute(trx);
    }
  }
}
