/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sql } from 'kysely';
import type { Database } from '../../src/database/database.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { partitionKey } from '../../src/events/partition-key.js';
import { InferenceSagaService } from '../../src/inference/inference-saga.module.js';
import { DATABASE, EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { cycle, cycleRows } from '../e2e/inference-cycles.js';
import { createTestStorage, inject, settle, startTestApp, type TestStorage } from '../support/test-app.js';
import { BACKENDS } from '../support/test-databases.js';

/**
 * Issue #19: the saga and the heavy projections run as P partitions, and P must not change a single result. The same
 * input (UCI cycles, several equipment over two systems, anomalies among them, one operator verdict) goes through one
 * process with P = 1 and with P = 4; the log's decisions and every read model must come out the same.
 */
jest.setTimeout(600_000);

const ORDER = [35, 1, 36, 41, 43, 31, 36];
const EQUIPMENT = [
  ['rig-a', 'press-1'],
  ['rig-a', 'press-2'],
  ['rig-a', 'pump-7'],
  ['rig-b', 'press-1'],
  ['rig-b', 'cooler-3'],
] as const;
const T0 = Date.parse('2026-03-03T08:00:00.000Z');

interface Outcome {
  anomalies: string[];
  readings: string[];
  results: string[];
  hourly: string[];
  checkpoints: string[];
  verdicts: string[];
  scored: string[];
}

async function run(backend: (typeof BACKENDS)[number], partitions: number): Promise<Outcome> {
  let storage: TestStorage | undefined;
  let app: NestFastifyApplication | undefined;
  try {
    storage = await createTestStorage(backend);
    app = await startTestApp({ ...storage.env, MODELS_DIR: 'models', PARTITIONS: String(partitions) });
    for (const [system, equipment] of EQUIPMENT) {
      const rows = ORDER.flatMap((row, i) => cycleRows(cycle(row), system, equipment, T0 + i * 60_000));
      const res = await inject(app, { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(rows) });
      expect(res.statusCode).toBe(200);
    }
    await drain(app);
    const db = app.get<Database>(DATABASE).db;
    // One verdict on rig-b's first anomaly: routed to that anomaly's partition by its equipment.
    const { rows: first } = await sql<{ event_id: string }>`select event_id from anomaly_results where system_id = 'rig-b' order by equipment_id, window_start limit 1`.execute(db);
    expect(first).toHaveLength(1);
    const verdict = await inject(app, { method: 'POST', url: `/api/v1/anomalies/${first[0]!.event_id}/feedback`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ verdict: 'confirmed' }) });
    expect(verdict.statusCode).toBe(200);
    await drain(app);

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
  } finally {
    await app?.close();
    await storage?.dispose();
  }
}

/** Saga and projections up to the head, twice over: the saga's own anomalies land above the first head. */
async function drain(app: NestFastifyApplication): Promise<void> {
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

describe.each(BACKENDS)('partitioned saga and projections on %s', (backend) => {
  afterEach(() => undefined);

  it('P = 4 gives exactly what P = 1 gives: the same decisions (same ids), readings, anomaly rows, trend and verdict', async () => {
    const one = await run(backend, 1);
    const four = await run(backend, 4);
    // The input holds degraded cycles for every equipment: a run that scored nothing proves nothing.
    expect(one.anomalies.length).toBeGreaterThanOrEqual(EQUIPMENT.length * 2);
    expect(one.readings).toHaveLength(EQUIPMENT.length);
    expect(one.verdicts).toHaveLength(1);
    expect(four.anomalies).toEqual(one.anomalies);
    expect(four.readings).toEqual(one.readings);
    expect(four.results).toEqual(one.results);
    expect(four.hourly).toEqual(one.hourly);
    // Every window scored once: the saga's per-equipment counters agree.
    expect(one.scored).toHaveLength(EQUIPMENT.length);
    expect(four.scored).toEqual(one.scored);
    // Each partitioned consumer has one checkpoint per partition; the others one each.
    for (const consumer of ['inference-saga', 'sensor_readings', 'anomaly_results', 'anomaly_trend']) {
      expect(four.checkpoints.filter((n) => n.startsWith(`${consumer}#`))).toEqual([0, 1, 2, 3].map((i) => `${consumer}#${i}/4`));
      expect(one.checkpoints).toContain(consumer);
    }
    // The five equipment really spread over more than one partition.
    expect(new Set(EQUIPMENT.map(([s, e]) => partitionKey(s, e) % 4)).size).toBeGreaterThan(1);
  });
});
