import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { expect } from '@jest/globals';
import { sql } from 'kysely';
import type { Database } from '../../src/database/database.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { InferenceSagaService } from '../../src/inference/inference-saga.module.js';
import { DATABASE, EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { cycle, cycleRows } from '../e2e/inference-cycles.js';
import { inject, settle } from '../support/test-app.js';

/**
 * Input and read-out shared by the partition tests: UCI cycles for several equipment over two systems (degraded cycles
 * among them, so windows are anomalous), and everything a partition count could change, as sortable strings.
 */
export const ORDER = [35, 1, 36, 41, 43, 31, 36];
export const EQUIPMENT = [
  ['rig-a', 'press-1'],
  ['rig-a', 'press-2'],
  ['rig-a', 'pump-7'],
  ['rig-b', 'press-1'],
  ['rig-b', 'cooler-3'],
] as const;
const T0 = Date.parse('2026-03-03T08:00:00.000Z');

/** Ingests cycles `from`..`to` (indexes into ORDER) for every equipment, one request per equipment. */
export async function ingestCycles(app: NestFastifyApplication, from: number, to: number): Promise<void> {
  for (const [system, equipment] of EQUIPMENT) {
    const rows = ORDER.slice(from, to).flatMap((row, i) => cycleRows(cycle(row), system, equipment, T0 + (from + i) * 60_000));
    const res = await inject(app, { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(rows) });
    expect(res.statusCode).toBe(200);
  }
}

/** Confirms rig-b's first anomaly: the verdict is routed to that anomaly's partition by its equipment. */
export async function confirmFirstAnomaly(app: NestFastifyApplication): Promise<void> {
  const db = app.get<Database>(DATABASE).db;
  const { rows: first } = await sql<{ event_id: string }>`select event_id from anomaly_results where system_id = 'rig-b' order by equipment_id, window_start limit 1`.execute(db);
  expect(first).toHaveLength(1);
  const verdict = await inject(app, { method: 'POST', url: `/api/v1/anomalies/${first[0]!.event_id}/feedback`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ verdict: 'confirmed' }) });
  expect(verdict.statusCode).toBe(200);
}

export interface Outcome {
  anomalies: string[];
  readings: string[];
  results: string[];
  hourly: string[];
  checkpoints: string[];
  verdicts: string[];
  scored: string[];
}

/** Everything a partition count could change, read from a drained app. */
export async function collect(app: NestFastifyApplication): Promise<Outcome> {
  const db = app.get<Database>(DATABASE).db;
  const store = app.get<EventStore>(EVENT_STORE);
  const anomalies = (await store.readAll({ filter: { eventTypes: [ANOMALY_DETECTED] }, limit: 10_000 })).map((e) => {
    const d = e.data as AnomalyDetectedData;
    return `${d.systemId}/${d.equipmentId}/${d.window.from}/${d.severity}/${d.affectedComponent} ${e.eventId}`;
  });
  const { rows: readings } = await sql<{ k: string }>`select system_id || '/' || equipment_id || '/' || count(*) || '/' || md5(string_agg(sensor_values::text, ',' order by ts)) as k
    from sensor_readings group by system_id, equipment_id order by 1`.execute(db);
  const { rows: results } = await sql<{ k: string }>`select system_id || '/' || equipment_id || '/' || window_start::text || '/' || severity || '/' || coalesce(feedback, '-') || '/' || event_id as k
    from anomaly_results order by 1`.execute(db);
  const { rows: hourly } = await sql<{ k: string }>`select system_id || '/' || bucket::text || '/' || severity || '/' || component || '/' || anomalies as k from anomaly_trend_hourly order by 1`.execute(db);
  const { rows: windows } = await sql<{ k: string }>`select system_id || '/' || equipment_id || '/' || window_start::text || '/' || coalesce(feedback, '-') as k from anomaly_trend_windows order by 1`.execute(db);
  const { rows: scored } = await sql<{ k: string }>`select system_id || '/' || equipment_id || '/' || scored_windows || '/' || dropped_windows as k from inference_equipment order by 1`.execute(db);
  const { rows: checkpoints } = await sql<{ name: string }>`select name from projection_checkpoints order by name`.execute(db);
  return {
    anomalies: anomalies.sort(),
    readings: readings.map((r) => r.k),
    results: results.map((r) => r.k),
    hourly: [...hourly.map((r) => r.k), ...windows.map((r) => r.k)],
    checkpoints: checkpoints.map((r) => r.name),
    verdicts: results.filter((r) => r.k.includes('/confirmed/')).map((r) => r.k),
    scored: scored.map((r) => r.k),
  };
}

/** Saga and projections up to the head, twice over: the saga's own anomalies land above the first head. */
export async function drain(app: NestFastifyApplication): Promise<void> {
  const store = app.get<EventStore>(EVENT_STORE);
  for (let i = 0; i < 2; i++) {
    await settle(app);
    const head = await store.headPosition();
    if (!head) return;
    await app.get(InferenceSagaService).saga!.waitFor(head, 300_000);
    const after = await store.headPosition();
    await app.get(ProjectionRunner).waitFor(after!, 300_000);
  }
}

