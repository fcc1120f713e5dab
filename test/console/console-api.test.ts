/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventStore, RecordedEvent } from '../../src/event-store/event-store.js';
import { ANOMALY_FEEDBACK_RECORDED } from '../../src/events/anomaly-detected.event.js';
import { streams } from '../../src/events/streams.js';
import { sha256Hex } from '../../src/http/auth/api-keys.js';
import { EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { BACKENDS } from '../support/test-databases.js';
import { createTestStorage, inject, settle, startTestApp, type TestStorage } from '../support/test-app.js';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load-config.js';
import { anomalyEvent, readingsEvent, rng, SENSORS } from '../read-side/workload.js';

const KEYS = { reader: 'reader-key-0123456789abcdef', operator: 'operator-key-0123456789abcdef', root: 'root-key-0123456789abcdef' };
const API_KEYS = `reader:read:${sha256Hex(KEYS.reader)},operator:read|feedback:${sha256Hex(KEYS.operator)},root:admin:${sha256Hex(KEYS.root)}`;
const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const V0 = 'hydraulic-17-1.0.0';
const V1 = 'hydraulic-17-1.1.0';
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** Reads a text/event-stream response until `until` holds for the messages so far (or the time runs out). */
async function readSse(
  url: string,
  headers: Record<string, string>,
  until: (messages: { id?: string; event?: string; data?: any }[]) => boolean,
  onOpen: () => Promise<void> = async () => {},
  timeoutMs = 30_000,
) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const res = await fetch(url, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const messages: { id?: string; event?: string; data?: any }[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  await onOpen();
  try {
    while (!until(messages)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const m: { id?: string; event?: string; data?: any } = {};
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) m.id = line.slice(4);
          else if (line.startsWith('event: ')) m.event = line.slice(7);
          else if (line.startsWith('data: ')) m.data = JSON.parse(line.slice(6));
        }
        if (m.event) messages.push(m);
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return messages;
}

describe.each(BACKENDS)('operator console API on %s', (backend) => {
  let storage: TestStorage;
  let app: NestFastifyApplication;
  let store: EventStore;
  let base: string;
  const ids: string[] = [];

  beforeAll(async () => {
    storage = await createTestStorage(backend);
    app = await startTestApp({ ...storage.env, AUTH: 'on', API_KEYS, STREAM_HEARTBEAT_MS: '300' });
    store = app.get<EventStore>(EVENT_STORE);
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const random = rng(16);
    // rig-a is a known system (GET /api/v1/systems lists it) once a reading of it was accepted.
    await store.append(streams.readings('rig-a'), [readingsEvent('rig-a', 'eq-1', T0, 60, random)]);
    for (let i = 0; i < 6; i++) {
      const e = anomalyEvent('rig-a', i % 2 ? 'eq-2' : 'eq-1', T0 + i * 60_000, i < 4 ? V1 : V0, random);
      ids.push(e.eventId);
      await store.append(streams.anomalies('rig-a'), [e]);
    }
    await settle(app);
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
  });

  it('GET /api/v1/anomalies/{id} returns votes, components, audit trail; 404 for an unknown id, 400 for a malformed one', async () => {
    const res = await inject(app, { url: `/api/v1/anomalies/${ids[0]}`, headers: auth(KEYS.reader) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ event_id: ids[0], system_id: 'rig-a', equipment_id: 'eq-1', model_version: V1, feedback: null, feedback_history: [], source: 'saga' });
    expect(body.votes.rf).toEqual({ weight: 1, anomaly: true, score: 0.9 });
    const [event] = (await store.readStream(streams.anomalies('rig-a'), { limit: 1 })) as RecordedEvent<string, { sourceEventIds: string[] }>[];
    expect(body.source_event_ids).toEqual(event!.data.sourceEventIds);
    expect(body.correlation_id).toBe(event!.metadata.correlationId);
    const missing = await inject(app, { url: '/api/v1/anomalies/00000000-0000-4000-8000-000000000000', headers: auth(KEYS.reader) });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    const bad = await inject(app, { url: '/api/v1/anomalies/nope', headers: auth(KEYS.reader) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('id');
  });

  it('POST feedback: needs the feedback scope; a repeat is a no-op, a change is a new event; the latest verdict counts', async () => {
    const url = `/api/v1/anomalies/${ids[0]}/feedback`;
    const confirm = JSON.stringify({ verdict: 'confirmed', note: 'seal worn' });
    expect((await inject(app, { method: 'POST', url, headers: auth(KEYS.reader), payload: confirm })).statusCode).toBe(403);
    const first = await inject(app, { method: 'POST', url, headers: auth(KEYS.operator), payload: confirm });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ recorded: true, verdict: 'confirmed', anomaly_id: ids[0] });
    const repeat = await inject(app, { method: 'POST', url, headers: auth(KEYS.operator), payload: confirm });
    expect(repeat.json()).toMatchObject({ recorded: false, event_id: null });
    const changed = await inject(app, { method: 'POST', url, headers: auth(KEYS.operator), payload: JSON.stringify({ verdict: 'false_positive' }) });
    expect(changed.json()).toMatchObject({ recorded: true, verdict: 'false_positive' });
    const byRoot = await inject(app, { method: 'POST', url, headers: auth(KEYS.root), payload: JSON.stringify({ verdict: 'false_positive' }) });
    expect(byRoot.json().recorded).toBe(true);

    const events = (await store.readStream(streams.anomalies('rig-a'))).filter((e) => e.type === ANOMALY_FEEDBACK_RECORDED);
    expect(events.map((e) => [e.metadata.actor, (e.data as { verdict: string }).verdict])).toEqual([
      ['operator', 'confirmed'],
      ['operator', 'false_positive'],
      ['root', 'false_positive'],
    ]);
    expect((events[0]!.data as { actor: string }).actor).toBe('operator');

    const detail = (await inject(app, { url: `/api/v1/anomalies/${ids[0]}`, headers: auth(KEYS.reader) })).json();
    expect(detail.feedback).toBe('false_positive');
    expect(detail.feedback_history.map((h: { actor: string; verdict: string; note: string | null }) => [h.actor, h.verdict, h.note])).toEqual([
      ['operator', 'confirmed', 'seal worn'],
      ['operator', 'false_positive', null],
      ['root', 'false_positive', null],
    ]);
    const list = (await inject(app, { url: `/api/v1/systems/rig-a/anomalies?verdict=false_positive&model_version=${V1}`, headers: auth(KEYS.reader) })).json();
    expect(list.items.map((i: { event_id: string }) => i.event_id)).toEqual([ids[0]]);
    expect(list.items[0].feedback).toBe('false_positive');
    const open = (await inject(app, { url: `/api/v1/systems/rig-a/anomalies?verdict=none&equipment_id=eq-2&model_version=${V1}`, headers: auth(KEYS.reader) })).json();
    expect(open.items.map((i: { event_id: string }) => i.event_id).sort()).toEqual([ids[1], ids[3]].sort());
  });

  it('POST feedback: 404 for an unknown anomaly, 400 naming the field for a bad verdict', async () => {
    const unknown = await inject(app, {
      method: 'POST',
      url: '/api/v1/anomalies/00000000-0000-4000-8000-000000000000/feedback',
      headers: auth(KEYS.operator),
      payload: JSON.stringify({ verdict: 'confirmed' }),
    });
    expect(unknown.statusCode).toBe(404);
    const bad = await inject(app, { method: 'POST', url: `/api/v1/anomalies/${ids[1]}/feedback`, headers: auth(KEYS.operator), payload: JSON.stringify({ verdict: 'maybe' }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['verdict']);
  });

  it('GET anomaly-swimlane bins anomalies per equipment and bucket with the highest severity', async () => {
    const res = await inject(app, {
      url: `/api/v1/systems/rig-a/anomaly-swimlane?from=2026-03-01T00:00:00Z&to=2026-03-01T02:00:00Z&bucket=1h&model_version=${V1}`,
      headers: auth(KEYS.reader),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const events = (await store.readStream(streams.anomalies('rig-a'))).filter((e) => e.type === 'AnomalyDetected' && (e.data as { modelVersion: string }).modelVersion === V1);
    const rank = ['low', 'medium', 'high', 'critical'];
    const expected = ['eq-1', 'eq-2'].map((eq) => {
      const mine = events.filter((e) => (e.data as { equipmentId: string }).equipmentId === eq).map((e) => (e.data as { severity: string }).severity);
      return { equipment_id: eq, bucket: '2026-03-01T00:00:00.000Z', anomalies: mine.length, severity: rank[Math.max(...mine.map((x) => rank.indexOf(x)))] };
    });
    expect(body.cells).toEqual(expected);
    expect(body.equipment).toEqual(['eq-1', 'eq-2']);
  });

  it('GET /api/v1/models lists the registry with metrics and the false-positive rate from feedback', async () => {
    const res = await inject(app, { url: '/api/v1/models', headers: auth(KEYS.reader) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as { versions: { version: string }[] };
    expect(body.items.map((v: { version: string }) => v.version)).toEqual(manifest.versions.map((v) => v.version).sort());
    expect(body.items.map((v: { version: string }) => v.version)).toEqual(expect.arrayContaining([V0, V1]));
    expect(body.items.filter((v: { active: boolean }) => v.active).map((v: { version: string }) => v.version)).toEqual([body.active]);
    const v1 = body.items.find((v: { version: string }) => v.version === V1);
    expect(v1.metrics.cooler.fpr).toBeCloseTo(0.0055, 3);
    expect(v1.models.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['rf', 'xgb', 'helm', 'adaptive']));
    // created: when the version entered the registry, as its manifest entry records it; never made up.
    const registry = manifest.versions as { version: string; created?: string }[];
    for (const item of body.items as { version: string; created: string | null }[]) {
      expect(item.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
      expect(item.created).toBe(registry.find((v) => v.version === item.version)!.created);
    }
    const detail = (await inject(app, { url: `/api/v1/anomalies/${ids[0]}`, headers: auth(KEYS.reader) })).json();
    const component = detail.affected_component ?? 'unattributed';
    expect(v1.feedback[component]).toEqual({ reviewed: 1, false_positives: 1, false_positive_rate: 1 });
  });

  it('GET /api/v1/models/compare: JSON comparison; an unknown version is a 404', async () => {
    const res = await inject(app, { url: `/api/v1/models/compare?base=${V0}&candidate=${V1}&system_id=rig-a`, headers: auth(KEYS.reader) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.windows).toBe(6);
    const any = body.scopes.find((s: { scope: string }) => s.scope === 'any');
    expect(any).toMatchObject({ flagged_by_base: 2, flagged_by_candidate: 4, both: 0, only_base: 2, only_candidate: 4 });
    const ranged = (await inject(app, { url: `/api/v1/models/compare?base=${V0}&candidate=${V1}&from=2026-03-01T00:00:00Z&to=2026-03-01T00:02:00Z`, headers: auth(KEYS.reader) })).json();
    expect(ranged.windows).toBe(2);
    const unknown = await inject(app, { url: `/api/v1/models/compare?base=${V0}&candidate=v9`, headers: auth(KEYS.reader) });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toContain('v9');
  });

  it('POST /api/v1/models/{version}/promote: admin only, appends ModelVersionPromoted, changes the active version; unknown is 404', async () => {
    const url = `/api/v1/models/${V0}/promote`;
    expect((await inject(app, { method: 'POST', url, headers: auth(KEYS.operator), payload: '{}' })).statusCode).toBe(403);
    const res = await inject(app, { method: 'POST', url, headers: auth(KEYS.root), payload: JSON.stringify({ reason: 'roll back' }) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ recorded: true, model_version: V0 });
    const [event] = await store.readStream(streams.models, { direction: 'backwards', limit: 1 });
    expect(event).toMatchObject({ type: 'ModelVersionPromoted', data: { modelVersion: V0, reason: 'roll back' }, metadata: { actor: 'root' } });
    await settle(app);
    expect((await inject(app, { url: '/api/v1/models', headers: auth(KEYS.reader) })).json().active).toBe(V0);
    expect((await inject(app, { method: 'POST', url, headers: auth(KEYS.root), payload: '{}' })).json().recorded).toBe(false);
    expect((await inject(app, { method: 'POST', url: '/api/v1/models/v9/promote', headers: auth(KEYS.root), payload: '{}' })).statusCode).toBe(404);
  });

  it('GET /api/v1/stream sends anomaly, health and feedback messages after the projection commits; Last-Event-ID resumes', async () => {
    const random = rng(99);
    const fresh = anomalyEvent('rig-a', 'eq-1', T0 + 3_600_000, V1, random);
    const messages = await readSse(
      `${base}/api/v1/stream?system_id=rig-a`,
      { authorization: `Bearer ${KEYS.reader}` },
      (m) => m.some((x) => x.event === 'health'),
      async () => {
        await store.append(streams.anomalies('rig-a'), [fresh]);
      },
    );
    const anomaly = messages.find((m) => m.event === 'anomaly')!;
    expect(anomaly.data).toMatchObject({ anomaly_id: fresh.eventId, system_id: 'rig-a', equipment_id: 'eq-1' });
    expect(anomaly.id).toMatch(/^\d+-\d+$/);
    // Sent after the projection committed: the detail is there when the message arrives.
    expect((await inject(app, { url: `/api/v1/anomalies/${fresh.eventId}`, headers: auth(KEYS.reader) })).statusCode).toBe(200);

    // A client that saw only the first anomaly resumes from its id and gets what followed: a verdict.
    await inject(app, { method: 'POST', url: `/api/v1/anomalies/${fresh.eventId}/feedback`, headers: auth(KEYS.operator), payload: JSON.stringify({ verdict: 'confirmed' }) });
    const resumed = await readSse(
      `${base}/api/v1/stream?system_id=rig-a`,
      { authorization: `Bearer ${KEYS.reader}`, 'last-event-id': anomaly.id! },
      (m) => m.some((x) => x.event === 'feedback'),
    );
    expect(resumed.find((m) => m.event === 'anomaly')).toBeUndefined();
    expect(resumed.find((m) => m.event === 'feedback')!.data).toMatchObject({ anomaly_id: fresh.eventId, verdict: 'confirmed', actor: 'operator' });

    // From the start of the log: every anomaly of the system, in log order.
    const all = await readSse(`${base}/api/v1/stream?system_id=rig-a`, { authorization: `Bearer ${KEYS.reader}`, 'last-event-id': '-1--1' }, (m) =>
      m.filter((x) => x.event === 'anomaly').length >= 7,
    );
    expect(all.filter((m) => m.event === 'anomaly').map((m) => m.data.anomaly_id)).toEqual([...ids, fresh.eventId]);
    expect((await inject(app, { url: '/api/v1/stream' })).statusCode).toBe(401);
  });

  it('GET sensor-curves: min and max per bucket of every sensor, from the stored readings; problem+json for a bad range', async () => {
    const q = (query: string) => inject(app, { url: `/api/v1/systems/rig-a/sensor-curves?${query}`, headers: auth(KEYS.reader) });
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 60_000).toISOString();
    // The expectation from the other read path: every value of the minute, one item each.
    const readings = (await inject(app, { url: `/api/v1/systems/rig-a/readings?equipment_id=eq-1&from=${from}&to=${to}&limit=100000`, headers: auth(KEYS.reader) })).json()
      .items as { sensor_id: string; ts: string; v: number; unit: string | null }[];
    expect(readings.length).toBe(60 * SENSORS.length);

    // 6 buckets of 10 s: each sensor's lowest and highest value in each.
    const res = await q(`equipment_id=eq-1&from=${from}&to=${to}&points=6`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ system_id: 'rig-a', equipment_id: 'eq-1', from: new Date(T0).toISOString(), to, bucket_ms: 10_000 });
    expect(body.t).toEqual([0, 1, 2, 3, 4, 5].map((i) => T0 + i * 10_000));
    const sensors = [...new Set(readings.map((r) => r.sensor_id))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    expect(body.sensors.map((s: { sensor_id: string }) => s.sensor_id)).toEqual(sensors);
    for (const s of body.sensors as { sensor_id: string; unit: string | null; min: number[]; max: number[] }[]) {
      const mine = readings.filter((r) => r.sensor_id === s.sensor_id);
      const bucket = (i: number) => mine.filter((r) => Math.floor((Date.parse(r.ts) - T0) / 10_000) === i).map((r) => r.v);
      expect(s.min).toEqual([0, 1, 2, 3, 4, 5].map((i) => Math.min(...bucket(i))));
      expect(s.max).toEqual([0, 1, 2, 3, 4, 5].map((i) => Math.max(...bucket(i))));
      expect(s.unit).toBe(mine[0]!.unit);
    }

    // More buckets than samples: one sample per occupied bucket, empty buckets left out, min = max = the value.
    const fine = (await q(`equipment_id=eq-1&from=${from}&to=${to}&points=120`)).json();
    expect(fine.t).toEqual(Array.from({ length: 60 }, (_, i) => T0 + i * 1000));
    const ps1 = fine.sensors.find((s: { sensor_id: string }) => s.sensor_id === 'PS1');
    const values = readings.filter((r) => r.sensor_id === 'PS1').map((r) => r.v);
    expect(ps1.min).toEqual(values);
    expect(ps1.max).toEqual(values);

    // An equipment without readings: no buckets. An unknown system: 404 naming id.
    expect((await q(`equipment_id=eq-9&from=${from}&to=${to}`)).json()).toMatchObject({ t: [], sensors: [] });
    const unknown = await inject(app, { url: `/api/v1/systems/rig-zz/sensor-curves?equipment_id=eq-1&from=${from}&to=${to}`, headers: auth(KEYS.reader) });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().errors[0].field).toBe('id');

    for (const [query, field] of [
      [`equipment_id=eq-1&from=${to}&to=${from}`, 'to'],
      [`equipment_id=eq-1&from=${from}&to=2026-04-01T00:00:00Z`, 'to'],
      [`from=${from}&to=${to}`, 'equipment_id'],
      [`equipment_id=eq-1&from=${from}&to=${to}&points=1`, 'points'],
      [`equipment_id=eq-1&from=yesterday&to=${to}`, 'from'],
    ] as const) {
      const bad = await q(query);
      expect(bad.statusCode).toBe(400);
      expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
    expect((await inject(app, { url: `/api/v1/systems/rig-a/sensor-curves?equipment_id=eq-1&from=${from}&to=${to}` })).statusCode).toBe(401);
  });

  it('GET /api/v1/stream sends a heartbeat comment every STREAM_HEARTBEAT_MS (300 ms here, 15 s by default)', async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20_000);
    const res = await fetch(`${base}/api/v1/stream?system_id=rig-a`, { headers: { authorization: `Bearer ${KEYS.reader}` }, signal: controller.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    try {
      // Nothing happens on rig-a meanwhile: what arrives after the greeting is the heartbeat alone.
      while ((text.match(/^: heartbeat$/gm) ?? []).length < 2) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    expect(text.startsWith('retry: 2000\n: connected\n\n')).toBe(true);
    expect(text.match(/^: heartbeat$/gm)).toHaveLength(2);
    expect(text).toMatch(/\n: heartbeat\n\n$/);
    expect(loadConfig({}).STREAM_HEARTBEAT_MS).toBe(15_000);
  });

  it('ends open streams when the service shuts down', async () => {
    const res = await fetch(`${base}/api/v1/stream`, { headers: { authorization: `Bearer ${KEYS.reader}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read(); // retry + connected comment
    const closing = app.close();
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    await expect(ended).resolves.toBe(true);
    await closing; // would wait for the open connection if the stream were left open
    app = undefined as unknown as NestFastifyApplication;
  }, 30_000);
});
