import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { v4 as uuidv4 } from 'uuid';
import type { RecordedEvent } from '../../src/event-store/event-store.js';
import { ANALYSIS_COMPLETED, ANALYSIS_FAILED, ANALYSIS_PROGRESSED, ANALYSIS_REQUESTED, ANALYSIS_STARTED } from '../../src/events/analysis.events.js';
import { ANOMALY_DETECTED, ANOMALY_FEEDBACK_RECORDED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { AnalysesProjection } from '../../src/projections/analyses.projection.js';
import { AnomalyResultsProjection } from '../../src/projections/anomaly-results.projection.js';
import { applyBatch } from '../../src/projections/projection-runner.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/test-databases.js';

let position = 0;
function recorded(type: string, data: unknown, eventId = uuidv4()): RecordedEvent {
  position++;
  return {
    eventId,
    type,
    data,
    streamId: 'x',
    revision: position,
    position: { commit: position, prepare: position },
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, position)).toISOString(),
    metadata: { correlationId: 'c', schemaVersion: 1, occurredAt: new Date().toISOString() },
  };
}

function anomaly(window: string, extra: Partial<AnomalyDetectedData> = {}): AnomalyDetectedData {
  const c = (degraded: boolean) => ({ condition: degraded ? 3 : 100, degraded, probability: degraded ? 0.9 : 0.1 });
  return {
    systemId: 's1',
    equipmentId: 'e1',
    window: { from: window, to: new Date(Date.parse(window) + 60_000).toISOString() },
    score: 0.9,
    severity: 'critical',
    affectedComponent: 'cooler',
    components: { cooler: c(true), valve: c(false), pump: c(false), accumulator: c(false) },
    confidence: 0.9,
    modelVersion: 'v1',
    votes: { rf: { weight: 1, anomaly: true, score: 0.9 } },
    sourceEventIds: [uuidv4()],
    operatingConditions: null,
    ...extra,
  };
}

describe.each(BACKENDS)('inference read models on %s', (backend) => {
  let tdb: TestDatabase;
  beforeEach(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterEach(async () => {
    await tdb.dispose();
  });

  it('anomaly_results: first decision per key wins, replaces a re-projection row, takes feedback', async () => {
    const db = tdb.database.db;
    const w1 = '2026-01-01T10:00:00.000Z';
    const w2 = '2026-01-01T10:01:00.000Z';
    // A re-projection (read side) already wrote a row for w2 and version v1.
    await sql`insert into anomaly_results (event_id, system_id, equipment_id, window_start, window_end, model, model_version, score, severity,
      affected_component, components, votes, confidence, is_anomaly, source, recorded_at)
      values (${uuidv4()}, 's1', 'e1', ${w2}, ${w2}, 'ensemble', 'v1', 0.1, 'low', 'valve', '{}', '{}', 0.5, true, 'reprojection', now())`.execute(db);
    const first = recorded(ANOMALY_DETECTED, anomaly(w1));
    const second = recorded(ANOMALY_DETECTED, anomaly(w1, { score: 0.5, analysisId: uuidv4() }));
    const onReprojected = recorded(ANOMALY_DETECTED, anomaly(w2, { analysisId: uuidv4() }));
    await applyBatch(db, new AnomalyResultsProjection(), [first, second, onReprojected]);
    await applyBatch(db, new AnomalyResultsProjection(), [recorded(ANOMALY_FEEDBACK_RECORDED, { anomalyId: first.eventId, systemId: 's1', verdict: 'confirmed', actor: 'op' })]);

    const rows = await db.selectFrom('anomaly_results').selectAll().orderBy('window_start').execute();
    expect(rows.map((r) => [r.event_id, Number(r.score), r.source, r.feedback, r.severity])).toEqual([
      [first.eventId, 0.9, 'saga', 'confirmed', 'critical'],
      [onReprojected.eventId, 0.9, 'analysis', null, 'critical'],
    ]);
  });

  it('analyses: requested -> running with progress -> completed; a late failure does not reopen it', async () => {
    const db = tdb.database.db;
    const id = uuidv4();
    const p = new AnalysesProjection();
    await applyBatch(db, p, [recorded(ANALYSIS_REQUESTED, { analysisId: id, systemId: 's1', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', mode: 'async', modelVersion: 'v1' })]);
    expect((await db.selectFrom('analyses').selectAll().executeTakeFirstOrThrow()).status).toBe('requested');
    await applyBatch(db, p, [
      recorded(ANALYSIS_STARTED, { analysisId: id, systemId: 's1', attempt: 1, windowsTotal: 100 }),
      recorded(ANALYSIS_PROGRESSED, { analysisId: id, systemId: 's1', windowsDone: 50, windowsTotal: 100 }),
    ]);
    expect(await db.selectFrom('analyses').select(['status', 'windows_done', 'windows_total', 'attempts']).executeTakeFirstOrThrow()).toEqual({
      status: 'running',
      windows_done: 50,
      windows_total: 100,
      attempts: 1,
    });
    await applyBatch(db, p, [
      recorded(ANALYSIS_COMPLETED, { analysisId: id, systemId: 's1', windows: 100, anomalies: 7, alreadyRecorded: 3, durationMs: 12 }),
      recorded(ANALYSIS_FAILED, { analysisId: id, systemId: 's1', error: 'late', attempts: 2 }),
    ]);
    const row = await db.selectFrom('analyses').selectAll().executeTakeFirstOrThrow();
    expect([row.status, row.anomalies, row.already_recorded, row.error]).toEqual(['completed', 7, 3, null]);
  });
});
