/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { createDatabase } from '../../src/database/create-database.js';
import type { Database } from '../../src/database/database.js';
import { comparePositions, type EventStore, type Position } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../../src/events/readings-ingested.event.js';
import { AnomalyDetector } from '../../src/inference/anomaly-detector.js';
import { INFERENCE_SAGA } from '../../src/inference/inference.saga.js';
import { readCheckpoint } from '../../src/projections/projection-runner.js';
import { createPostgresDatabase } from '../support/test-databases.js';
import { cycle, cycleRows } from './inference-cycles.js';
import { subscribersBehind } from '../support/subscribers-behind.js';
import { countSensorValues } from '../support/sensor-values.js';
import { spawnService } from '../support/spawn-service.js';

/**
 * SIGKILL the built service in the middle of a large ingest (PostgreSQL), restart it, finish the ingest
 * (the client retries the batch whose answer it lost, with the same Idempotency-Key), then check that
 * nothing was lost or duplicated: events vs accepted rows, sensor_readings rows, every window decided once
 * by the saga with exactly the decisions a straight scoring of the same windows gives, checkpoints at the head.
 */
const SYSTEM = 'crash-rig';
const BATCHES = 48;
const CYCLES_PER_BATCH = 3;
const EQUIPMENT = 4;
const KILL_AFTER = 17;
const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const MODELS_DIR = resolve('models');

function batch(b: number) {
  const equipmentId = `eq-${b % EQUIPMENT}`;
  const rows = [];
  const windows: { equipmentId: string; start: number; row: number }[] = [];
  for (let j = 0; j < CYCLES_PER_BATCH; j++) {
    const row = ((b * CYCLES_PER_BATCH + j) % 48) + 1;
    const start = T0 + (Math.floor(b / EQUIPMENT) * CYCLES_PER_BATCH + j) * 60_000;
    rows.push(...cycleRows(cycle(row), SYSTEM, equipmentId, start));
    windows.push({ equipmentId, start, row });
  }
  return { key: `crash-batch-${b}`, rows, windows };
}

function startService(env: Record<string, string>) {
  return spawnService({ MODELS_DIR, ...env });
}

function postOnce(port: number, body: string, key: string) {
  return new Promise<{ status: number; body: string; retryAfter: number }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/v1/ingest', method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const retryAfter = Number(res.headers['retry-after'] ?? 1);
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, retryAfter }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * As a client is told to: a 503 (backpressure while the saga and projections catch up on a loaded machine, or the
 * database briefly unavailable) is sent again after its Retry-After, with the same Idempotency-Key.
 */
async function post(port: number, body: string, key: string) {
  for (let attempt = 1; ; attempt++) {
    const res = await postOnce(port, body, key);
    if (res.status !== 503 || attempt === 30) return res;
    await new Promise((r) => setTimeout(r, Math.min(5, Math.max(1, res.retryAfter)) * 1000));
  }
}

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build:server', '--silent']);
}, 180_000);

describe('crash and restart of the built service mid-ingest (postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let service: ReturnType<typeof startService> | undefined;
  let database: Database | undefined;

  beforeAll(async () => {
    db = await createPostgresDatabase();
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await database?.close();
    await db?.drop();
  });

  it('loses and duplicates nothing', async () => {
    const env = { DATABASE_URL: db.url, PROJECTION_BATCH_SIZE: '50' };
    const accepted = new Map<string, number>();
    const pending: number[] = [];
    service = startService(env);
    let port = await service.port();

    for (let b = 0; b < BATCHES; b++) {
      const { key, rows } = batch(b);
      const sending = post(port, JSON.stringify(rows), key);
      if (b === KILL_AFTER) {
        // Kill while this batch is in flight and the saga and projections are busy with the earlier ones.
        await new Promise((r) => setTimeout(r, 150));
        service.child.kill('SIGKILL');
        await service.exited;
        const outcome = await sending.catch(() => undefined);
        if (outcome?.status === 200) accepted.set(key, JSON.parse(outcome.body).accepted);
        else pending.push(b);
        service = startService(env);
        port = await service.port();
        // The client retries what it did not get an answer for, with the same Idempotency-Key.
        for (const p of pending.splice(0)) {
          const retry = await post(port, JSON.stringify(batch(p).rows), batch(p).key);
          expect(retry.status).toBe(200);
          accepted.set(batch(p).key, JSON.parse(retry.body).accepted);
        }
        continue;
      }
      const res = await sending;
      expect(res.status).toBe(200);
      accepted.set(key, JSON.parse(res.body).accepted);
    }
    const acceptedRows = [...accepted.values()].reduce((a, b) => a + b, 0);
    expect(accepted.size).toBe(BATCHES);
    expect(acceptedRows).toBe(BATCHES * CYCLES_PER_BATCH * 60 * 17);

    // Wait until the saga and every projection have processed the whole log (including the anomalies).
    database = await createDatabase({ url: db.url, poolSize: 2 });
    // Writers are stopped when we read; other test runs on the same server may hold the cluster-wide xmin back,
    // so the verification reads the whole table instead of applying the subscribers' snapshot rule.
    const store: EventStore = new PostgresEventStore(database, { applySnapshotRule: false });
    const deadline = Date.now() + 180_000;
    let head: Position | undefined;
    for (;;) {
      const caught = await subscribersBehind(database.db);
      head = caught.head;
      const { checkpoints: rows, behind } = caught;
      if (rows.length >= 5 && rows.some((r) => r.name === INFERENCE_SAGA) && behind.length === 0) break;
      if (Date.now() > deadline) throw new Error(`not caught up: ${JSON.stringify(rows)} head ${JSON.stringify(head)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    service.child.kill('SIGTERM');
    await service.exited;

    const events = await store.readAll({ limit: 1_000_000 });
    const ingested = events.filter((e) => e.type === READINGS_INGESTED);
    expect(new Set(ingested.map((e) => e.eventId)).size).toBe(ingested.length);
    const keys = new Set<string>();
    let values = 0;
    for (const e of ingested) {
      const d = e.data as ReadingsIngestedData;
      for (const s of d.samples) for (const sensor of Object.keys(s.values)) (values++, keys.add(`${d.equipmentId}/${sensor}/${s.ts}`));
    }
    // Every accepted row is in the log exactly once.
    expect(values).toBe(acceptedRows);
    expect(keys.size).toBe(acceptedRows);
    expect(await countSensorValues(database.db)).toBe(acceptedRows);

    // Every window decided exactly once, and the same way a straight scoring of the same windows decides.
    const detector = await AnomalyDetector.load({ modelsDir: MODELS_DIR });
    const expected = new Set<string>();
    const perEquipment = new Map<string, { start: number; row: number }[]>();
    for (let b = 0; b < BATCHES; b++) for (const w of batch(b).windows) perEquipment.set(w.equipmentId, [...(perEquipment.get(w.equipmentId) ?? []), w]);
    for (const [equipmentId, windows] of perEquipment) {
      let state;
      for (const w of windows.sort((a, c) => a.start - c.start)) {
        const c = cycle(w.row);
        const samples = Array.from({ length: 60 }, (_, s) => ({ ts: new Date(w.start + s * 1000).toISOString(), values: Object.fromEntries(Object.entries(c.values).map(([k, v]) => [k, v[s]!])) }));
        const scored = await detector.scoreWindow(samples, state);
        state = scored.state;
        if (scored.result.isAnomaly) expected.add(`${equipmentId}/${new Date(w.start).toISOString()}`);
      }
    }
    await detector.close();
    const anomalies = events.filter((e) => e.type === ANOMALY_DETECTED);
    const decided = anomalies.map((e) => `${(e.data as AnomalyDetectedData).equipmentId}/${(e.data as AnomalyDetectedData).window.from}`);
    expect(new Set(anomalies.map((e) => e.eventId)).size).toBe(anomalies.length);
    expect(new Set(decided).size).toBe(decided.length);
    expect(new Set(decided)).toEqual(expected);
    expect(expected.size).toBeGreaterThan(0);

    const { rows: sagaState } = await sql<{ scored: number; dropped: number; open: number }>`
      select (select coalesce(sum(scored_windows), 0)::int from inference_equipment) as scored,
             (select coalesce(sum(dropped_windows), 0)::int from inference_equipment) as dropped,
             (select count(*)::int from inference_windows) as open`.execute(database.db);
    expect(sagaState[0]).toEqual({ scored: BATCHES * CYCLES_PER_BATCH, dropped: 0, open: 0 });
    const { rows: results } = await sql<{ n: number }>`select count(*)::int as n from anomaly_results where system_id = ${SYSTEM}`.execute(database.db);
    expect(results[0]!.n).toBe(expected.size);

    const saga = await readCheckpoint(database.db, INFERENCE_SAGA);
    expect(comparePositions(saga!, head!)).toBeGreaterThanOrEqual(0);
  }, 420_000);
});
