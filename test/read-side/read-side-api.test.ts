import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventStore, RecordedEvent } from '../../src/event-store/event-store.js';
import { ANOMALY_DETECTED, ANOMALY_FEEDBACK_RECORDED, type AnomalyDetectedData, type AnomalyFeedbackRecordedData } from '../../src/events/anomaly-detected.event.js';
import { streams } from '../../src/events/streams.js';
import { EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { registry } from '../../src/observability/metrics.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { BACKENDS } from '../support/test-databases.js';
import { createTestStorage, inject, settle, startTestApp, type TestStorage } from '../support/test-app.js';
import { anomalyEvent, mixedWorkload, rng } from './workload.js';

async function counter(name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).filter((v) => v.labels.cache === 'health').reduce((n, v) => n + Number(v.value), 0);
}

/** Independent oracle: folds the log as the read model is specified (first detection per window wins; feedback by id). */
function expectedAnomalies(events: RecordedEvent[], systemId: string) {
  const windows = new Map<string, { id: string; data: AnomalyDetectedData }>();
  const feedback = new Map<string, string>();
  for (const e of events) {
    if (e.type === ANOMALY_DETECTED) {
      const d = e.data as AnomalyDetectedData;
      const k = `${d.modelVersion}/${d.equipmentId}/${d.window.from}`;
      if (d.systemId === systemId && !windows.has(k)) windows.set(k, { id: e.eventId, data: d });
    } else if (e.type === ANOMALY_FEEDBACK_RECORDED) {
      const d = e.data as AnomalyFeedbackRecordedData;
      if (d.systemId === systemId) feedback.set(d.anomalyId, d.verdict);
    }
  }
  const live = [...windows.values()].filter((w) => w.data.severity !== 'none');
  return { total: live.length, open: live.filter((w) => !feedback.has(w.id)).length };
}

describe.each(BACKENDS)('read-side HTTP API on %s', (backend) => {
  let storage: TestStorage;
  let app: NestFastifyApplication;
  let store: EventStore;

  beforeAll(async () => {
    storage = await createTestStorage(backend);
    app = await startTestApp({ ...storage.env, HEALTH_CACHE_TTL_SECONDS: '60' });
    store = app.get<EventStore>(EVENT_STORE);
    const { last } = await mixedWorkload(store, 3);
    await app.get(ProjectionRunner).waitFor(last, 120_000);
    await settle(app);
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
  });

  it('GET /api/v1/systems lists every system with equipment, last reading and open anomalies', async () => {
    const res = await inject(app, { url: '/api/v1/systems' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items.map((s: { system_id: string }) => s.system_id)).toEqual(['rig-a', 'rig-b', 'rig-c']);
    const all = await store.readAll({ limit: 100_000 });
    for (const system of body.items) {
      expect(system.equipment.map((e: { equipment_id: string }) => e.equipment_id)).toEqual(['eq-1', 'eq-2']);
      expect(system.open_anomalies).toBe(expectedAnomalies(all, system.system_id).open);
    }
  });

  it('GET anomaly-trend returns zero-filled buckets whose totals match the log', async () => {
    const res = await inject(app, { url: '/api/v1/systems/rig-a/anomaly-trend?from=2026-02-28T22:00:00Z&to=2026-03-01T04:00:00Z&bucket=1h' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.buckets).toHaveLength(6);
    expect(body.buckets[0]).toEqual({
      bucket: '2026-02-28T22:00:00.000Z',
      total: 0,
      by_severity: { low: 0, medium: 0, high: 0, critical: 0 },
      by_component: { cooler: 0, valve: 0, pump: 0, accumulator: 0, unattributed: 0 },
    });
    const total = body.buckets.reduce((n: number, b: { total: number }) => n + b.total, 0);
    const all = await store.readAll({ limit: 100_000 });
    expect(total).toBe(expectedAnomalies(all, 'rig-a').total);
    expect(total).toBeGreaterThan(0);
    for (const b of body.buckets) {
      expect(Object.values(b.by_severity as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(b.total);
      expect(Object.values(b.by_component as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(b.total);
    }
    const daily = (await inject(app, { url: '/api/v1/systems/rig-a/anomaly-trend?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&bucket=1d' })).json();
    expect(daily.buckets).toHaveLength(1);
    expect(daily.buckets[0].total).toBe(total);
    const v1 = (await inject(app, { url: '/api/v1/systems/rig-a/anomaly-trend?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&bucket=1d&model_version=v1' })).json();
    expect(v1.model_version).toBe('v1');
    expect(v1.buckets[0].total).toBeLessThan(total);
  });

  it('rejects bad trend parameters with problem+json naming the field', async () => {
    const bad = await inject(app, { url: '/api/v1/systems/rig-a/anomaly-trend?bucket=5m' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toContain('bucket');
    const range = await inject(app, { url: '/api/v1/systems/rig-a/anomaly-trend?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z' });
    expect(range.statusCode).toBe(400);
    expect(range.json().errors).toEqual([{ field: 'from', message: 'must be before to' }]);
  });

  it('GET health is cached and recomputed once a new anomaly for that system is projected', async () => {
    const hits0 = await counter('cache_hits_total');
    const misses0 = await counter('cache_misses_total');
    const first = await inject(app, { url: '/api/v1/systems/rig-b/health' });
    expect(first.statusCode).toBe(200);
    const second = await inject(app, { url: '/api/v1/systems/rig-b/health' });
    expect(second.json()).toEqual(first.json());
    expect(await counter('cache_misses_total')).toBe(misses0 + 1);
    expect(await counter('cache_hits_total')).toBe(hits0 + 1);

    // A critical cooler anomaly in the newest window of eq-1 must show at once despite the 60-s TTL.
    const eq1 = first.json().equipment.find((e: { equipment_id: string }) => e.equipment_id === 'eq-1');
    const lastWindow = Math.floor(Date.parse(eq1.last_reading_at) / 60_000) * 60_000;
    const random = rng(99);
    let event;
    do event = anomalyEvent('rig-b', 'eq-1', lastWindow, 'v3', random);
    while ((event.data as AnomalyDetectedData).severity !== 'critical' || (event.data as AnomalyDetectedData).affectedComponent === null);
    const appended = await store.append(streams.anomalies('rig-b'), [event]);
    // Wait for this very event (settle() only waits for the head visible now, which may not include it yet).
    await app.get(ProjectionRunner).waitFor(appended.position, 60_000);
    const third = (await inject(app, { url: '/api/v1/systems/rig-b/health' })).json();
    expect(await counter('cache_misses_total')).toBe(misses0 + 2);
    const component = (event.data as AnomalyDetectedData).affectedComponent!;
    const eq = third.equipment.find((e: { equipment_id: string }) => e.equipment_id === 'eq-1');
    expect(eq.components[component]).toMatchObject({ status: 'critical', anomaly_id: event.eventId, model_version: 'v3' });
    expect(third.status).toBe('critical');
  }, 120_000);

  it('GET health of a system without readings is a 404 problem', async () => {
    const res = await inject(app, { url: '/api/v1/systems/nope/health' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('GET events pages through the raw events of one system with metadata', async () => {
    const expected = [
      ...(await store.readStream(streams.readings('rig-a'))),
      ...(await store.readStream(streams.anomalies('rig-a'))),
    ].map((e) => e.eventId);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const res = await inject(app, { url: `/api/v1/systems/rig-a/events?limit=7${after ? `&after=${after}` : ''}` });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      for (const item of body.items) {
        expect(item.metadata).toHaveProperty('correlation_id');
        expect(item.metadata).toHaveProperty('schema_version');
        expect(['readings-rig-a', 'anomalies-rig-a']).toContain(item.stream);
      }
      seen.push(...body.items.map((i: { event_id: string }) => i.event_id));
      after = body.next;
      pages++;
    } while (after);
    expect(pages).toBeGreaterThan(1);
    expect([...seen].sort()).toEqual([...expected].sort());
    expect(new Set(seen).size).toBe(seen.length);

    const typed = (await inject(app, { url: '/api/v1/systems/rig-a/events?type=AnomalyFeedbackRecorded&limit=1000' })).json();
    expect(typed.items.every((i: { type: string }) => i.type === 'AnomalyFeedbackRecorded')).toBe(true);
    const bad = await inject(app, { url: '/api/v1/systems/rig-a/events?after=zzz' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('after');
  });
});
