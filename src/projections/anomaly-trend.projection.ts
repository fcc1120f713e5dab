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
import { upsertTrendWindows, type TrendWindow } from './trend-windows.writer.js';

export type SystemsChangedListener = (systemIds: ReadonlySet<string>) => void | Promise<void>;

/**
 * Trend and health read model: AnomalyDetected as live windows plus the hourly rollup, and feedback verdicts.
 * After each committed batch it tells listeners which systems changed (the health cache drops their entries).
 */
export class AnomalyTrendProjection implements Projection {
  readonly name = 'anomaly_trend';
  readonly partitioned = true;
  readonly tables = ['anomaly_trend_windows', 'anomaly_trend_hourly'] as const;
  private readonly listeners = new Set<SystemsChangedListener>();

  onSystemsChanged(listener: SystemsChangedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async apply({ trx, schema, slot }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    // Order matters (feedback may follow its anomaly in the same batch): flush detections before each feedback run.
    let pending: TrendWindow[] = [];
    const flush = async () => {
      if (pending.length) await upsertTrendWindows(trx, schema, pending, 'first-wins');
      pending = [];
    };
    for (const event of events) {
      if (event.type === ANOMALY_DETECTED) {
        const d = event.data as AnomalyDetectedData;
        pending.push({
          system_id: d.systemId,
          model_version: d.modelVersion,
          source: 'live',
          equipment_id: d.equipmentId,
          window_start: d.window.from,
          window_end: d.window.to,
          is_anomaly: d.severity !== 'none',
          severity: d.severity,
          affected_component: d.affectedComponent,
          components: d.components,
          score: d.score,
          event_id: event.eventId,
        });
      } else if (event.type === ANOMALY_FEEDBACK_RECORDED) {
        await flush();
        const d = event.data as AnomalyFeedbackRecordedData;
        await sql`update ${sql.table(`${schema}.anomaly_trend_windows`)} set feedback = ${d.verdict}
          where event_id = ${d.anomalyId} and system_id = ${d.systemId} ${rowInSlot(slot, sql.ref('system_id'), sql.ref('equipment_id'))}`.execute(trx);
      }
    }
    await flush();
  }

  async afterCommit(events: readonly RecordedEvent[]): Promise<void> {
    if (this.listeners.size === 0) return;
    const systems = new Set<string>();
    for (const e of events) {
      if (e.type === ANOMALY_DETECTED || e.type === ANOMALY_FEEDBACK_RECORDED) systems.add((e.data as { systemId: string }).systemId);
    }
    if (systems.size === 0) return;
    for (const listener of this.listeners) await listener(systems);
  }
}
