import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store/event-store.js';
import {
  ANALYSIS_COMPLETED,
  ANALYSIS_FAILED,
  ANALYSIS_PROGRESSED,
  ANALYSIS_REQUESTED,
  ANALYSIS_STARTED,
  type AnalysisCompletedData,
  type AnalysisFailedData,
  type AnalysisProgressedData,
  type AnalysisRequestedData,
  type AnalysisStartedData,
} from '../events/analysis.events.js';
import type { Projection, ProjectionContext } from './projection.js';

const TYPES = new Set([ANALYSIS_REQUESTED, ANALYSIS_STARTED, ANALYSIS_PROGRESSED, ANALYSIS_COMPLETED, ANALYSIS_FAILED]);

/** Status of each analysis: requested -> running -> completed | failed. A finished analysis never goes back. */
export class AnalysesProjection implements Projection {
  readonly name = 'analyses';
  readonly eventTypes = [ANALYSIS_REQUESTED, ANALYSIS_STARTED, ANALYSIS_PROGRESSED, ANALYSIS_COMPLETED, ANALYSIS_FAILED];
  readonly tables = ['analyses'] as const;

  async apply({ trx, schema }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    const t = sql.table(`${schema}.analyses`);
    const open = sql`status not in ('completed', 'failed')`;
    for (const event of events) {
      if (!TYPES.has(event.type)) continue;
      const at = event.createdAt;
      switch (event.type) {
        case ANALYSIS_REQUESTED: {
          const d = event.data as AnalysisRequestedData;
          await sql`
            insert into ${t} (analysis_id, system_id, range_from, range_to, mode, model_version, status, requested_at, updated_at)
            values (${d.analysisId}::uuid, ${d.systemId}, ${d.from}::timestamptz, ${d.to}::timestamptz, ${d.mode}, ${d.modelVersion}, 'requested', ${at}::timestamptz, ${at}::timestamptz)
            on conflict (analysis_id) do nothing`.execute(trx);
          break;
        }
        case ANALYSIS_STARTED: {
          const d = event.data as AnalysisStartedData;
          await sql`
            update ${t} set status = 'running', attempts = ${d.attempt}, windows_total = ${d.windowsTotal}, windows_done = 0, updated_at = ${at}::timestamptz
            where analysis_id = ${d.analysisId}::uuid and ${open}`.execute(trx);
          break;
        }
        case ANALYSIS_PROGRESSED: {
          const d = event.data as AnalysisProgressedData;
          await sql`
            update ${t} set windows_done = ${d.windowsDone}, windows_total = ${d.windowsTotal}, updated_at = ${at}::timestamptz
            where analysis_id = ${d.analysisId}::uuid and ${open}`.execute(trx);
          break;
        }
        case ANALYSIS_COMPLETED: {
          const d = event.data as AnalysisCompletedData;
          await sql`
            update ${t} set status = 'completed', windows = ${d.windows}, windows_done = ${d.windows}, windows_total = ${d.windows},
              anomalies = ${d.anomalies}, already_recorded = ${d.alreadyRecorded}, duration_ms = ${d.durationMs}, updated_at = ${at}::timestamptz
            where analysis_id = ${d.analysisId}::uuid and ${open}`.execute(trx);
          break;
        }
        case ANALYSIS_FAILED: {
          const d = event.data as AnalysisFailedData;
          await sql`
            update ${t} set status = 'failed', error = ${d.error}, attempts = ${d.attempts}, updated_at = ${at}::timestamptz
            where analysis_id = ${d.analysisId}::uuid and ${open}`.execute(trx);
          break;
        }
      }
    }
  }
}
