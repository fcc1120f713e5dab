/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventStore } from '../../src/event-store/event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { streams } from '../../src/events/streams.js';
import { InferenceSagaService } from '../../src/inference/inference-saga.module.js';
import { EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { NATS_URL } from '../jobs/nats-url.js';
import { createTestStorage, inject, settle, startTestApp, type TestStorage } from '../support/test-app.js';
import { BACKENDS } from '../support/test-databases.js';
import { cycle, cycleRows, degradedComponents } from './inference-cycles.js';

/**
 * Through the running service with the real ensemble (models/manifest.json): UCI hydraulic cycles from
 * models/sample ingested as 1-Hz long-format rows, one cycle per minute. Chosen rows (1-based in the
 * sample; original cycle numbers in models/sample/cycles.txt): healthy 35, 36, 43 (all components at their
 * healthy condition); degraded 1 (cooler 3 %), 41 (valve 73 %), 31 (accumulator 90 bar) — one degraded
 * component each, which the ensemble classifies correctly.
 */
// Visibility on PostgreSQL waits for the oldest transaction on the shared server: allow for a loaded machine.
jest.setTimeout(300_000);

const ORDER = [35, 1, 36, 41, 43, 31];
const SYSTEM = 'rig-e2e';
const EQUIPMENT = 'press-1';
const T0 = Date.parse('2026-02-02T12:00:00.000Z');
const RANGE = { from: new Date(T0).toISOString(), to: new Date(T0 + ORDER.length * 60_000).toISOString() };

describe.each(BACKENDS)('inference end to end on %s', (backend) => {
  let storage: TestStorage;
  let app: NestFastifyApplication;
  // PGlite runs the in-process queue; PostgreSQL the NATS JetStream work queue (own stream, deleted after).
  const queueName = `E2E_ANALYSIS_${randomBytes(4).toString('hex')}`;
  const withNats = backend === 'postgres';

  beforeAll(async () => {
    storage = await createTestStorage(backend);
    app = await startTestApp({
      ...storage.env,
      MODELS_DIR: 'models',
      RATE_LIMIT_ANALYZE_PER_MINUTE: '5',
      ANALYSIS_QUEUE: queueName,
      ...(withNats ? { NATS_URL } : {}),
    });
  });
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
    if (withNats) {
      const nc = await connect({ servers: NATS_URL });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(queueName).catch(() => undefined);
      await nc.close();
    }
  });

  /** Saga up to the head of the log, then every projection up to the new head (including the anomalies). */
  async function drain(): Promise<void> {
    const store = app.get<EventStore>(EVENT_STORE);
    // First until every committed ingest event is readable (a busy shared server hides new events for a while).
    await settle(app);
    const head = await store.headPosition();
    const saga = app.get(InferenceSagaService).saga;
    expect(saga).not.toBeNull();
    if (head) await saga!.waitFor(head, 180_000);
    // The anomalies the saga appended may sit above the head a snapshot showed a moment ago: wait for them by position.
    const [newest] = await store.readStream(streams.anomalies(SYSTEM), { direction: 'backwards', limit: 1 });
    if (newest) await app.get(ProjectionRunner).waitFor(newest.position, 180_000);
    await settle(app);
  }

  async function recordedAnomalies(): Promise<AnomalyDetectedData[]> {
    const events = await app.get<EventStore>(EVENT_STORE).readStream(streams.anomalies(SYSTEM));
    return events.filter((e) => e.type === ANOMALY_DETECTED).map((e) => e.data as AnomalyDetectedData);
  }

  it('ingested degraded cycles become AnomalyDetected with the right component; healthy ones do not', async () => {
    const rows = ORDER.flatMap((row, i) => cycleRows(cycle(row), SYSTEM, EQUIPMENT, T0 + i * 60_000));
    const res = await inject(app, { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(rows) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: rows.length, quarantined: 0 });
    await drain();

    const found = await recordedAnomalies();
    const expected = ORDER.map((row, i) => ({ minute: i, degraded: degradedComponents(cycle(row)) })).filter((x) => x.degraded.length > 0);
    expect(found.map((a) => a.window.from).sort()).toEqual(expected.map((x) => new Date(T0 + x.minute * 60_000).toISOString()));
    for (const x of expected) {
      const anomaly = found.find((a) => a.window.from === new Date(T0 + x.minute * 60_000).toISOString())!;
      expect(x.degraded).toEqual([anomaly.affectedComponent]);
      expect(anomaly.equipmentId).toBe(EQUIPMENT);
      expect(anomaly.sourceEventIds.length).toBeGreaterThan(0);
    }
  });

  it('the anomalies query returns them newest first, paginated by an opaque cursor', async () => {
    const all = await inject(app, { method: 'GET', url: `/api/v1/systems/${SYSTEM}/anomalies` });
    expect(all.statusCode).toBe(200);
    const items = all.json().items as { window_start: string; affected_component: string; event_id: string }[];
    expect(items.map((i) => i.window_start)).toEqual((await recordedAnomalies()).map((a) => a.window.from).sort().reverse());
    expect(all.json().next_cursor).toBeNull();

    const page1 = await inject(app, { method: 'GET', url: `/api/v1/systems/${SYSTEM}/anomalies?limit=2` });
    const page2 = await inject(app, { method: 'GET', url: `/api/v1/systems/${SYSTEM}/anomalies?limit=2&cursor=${page1.json().next_cursor}` });
    expect([...page1.json().items, ...page2.json().items].map((i: { event_id: string }) => i.event_id)).toEqual(items.map((i) => i.event_id));
    expect(page2.json().next_cursor).toBeNull();

    const valve = await inject(app, { method: 'GET', url: `/api/v1/systems/${SYSTEM}/anomalies?component=valve` });
    expect(valve.json().items.map((i: { affected_component: string }) => i.affected_component)).toEqual(['valve']);

    const bad = await inject(app, { method: 'GET', url: `/api/v1/systems/${SYSTEM}/anomalies?cursor=not-a-cursor` });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toContain('cursor');
  });

  it('a sync analysis of the same range finds the same anomalies and duplicates none', async () => {
    const before = await recordedAnomalies();
    const res = await inject(app, {
      method: 'POST',
      url: `/api/v1/systems/${SYSTEM}/analyze`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ ...RANGE, mode: 'sync' }),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('completed');
    expect(body.counts).toEqual({ windows: ORDER.length, dropped_windows: 0, anomalies: before.length, already_recorded: before.length });
    expect(body.anomalies.map((a: { window_start: string }) => a.window_start).sort()).toEqual(before.map((a) => a.window.from).sort());
    expect(await recordedAnomalies()).toHaveLength(before.length);
  });

  it(`an async analysis runs on the ${withNats ? 'NATS JetStream' : 'in-process'} work queue; the status URL shows it complete; a retry is the same analysis`, async () => {
    const request = () =>
      inject(app, {
        method: 'POST',
        url: `/api/v1/systems/${SYSTEM}/analyze`,
        headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-${queueName}` },
        payload: JSON.stringify({ ...RANGE, mode: 'async' }),
      });
    const res = await request();
    expect(res.statusCode).toBe(202);
    const { analysis_id, status_url } = res.json();
    expect(res.headers.location).toBe(status_url);
    expect(status_url).toBe(`/api/v1/analyses/${analysis_id}`);

    let status: { status: string; progress: number; counts: Record<string, number> } | undefined;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      await settle(app);
      const s = await inject(app, { method: 'GET', url: status_url });
      expect(s.statusCode).toBe(200);
      status = s.json();
      if (status!.status === 'completed' || status!.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const anomalies = (await recordedAnomalies()).length;
    expect(status).toMatchObject({ status: 'completed', progress: 1, counts: { windows: ORDER.length, anomalies, already_recorded: anomalies } });

    const again = await request();
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toMatchObject({ analysis_id, status: 'completed' });

    const missing = await inject(app, { method: 'GET', url: '/api/v1/analyses/00000000-0000-4000-8000-000000000000' });
    expect(missing.statusCode).toBe(404);
  });

  it('rejects bad analyze input naming the field, and rate-limits analyze per client with 429 + Retry-After', async () => {
    const bad = await inject(app, {
      method: 'POST',
      url: `/api/v1/systems/${SYSTEM}/analyze`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ from: RANGE.to, to: RANGE.from, mode: 'sync' }),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['to']);

    let limited;
    for (let i = 0; i < 6 && !limited; i++) {
      const res = await inject(app, {
        method: 'POST',
        url: `/api/v1/systems/${SYSTEM}/analyze`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ ...RANGE, mode: 'sync', model_version: 'unknown-version' }),
      });
      if (res.statusCode === 429) limited = res;
      else expect(res.statusCode).toBe(400);
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited!.headers['content-type']).toContain('application/problem+json');
    expect(limited!.json()).toMatchObject({ status: 429, type: '/problems/rate-limited' });
  });
});
