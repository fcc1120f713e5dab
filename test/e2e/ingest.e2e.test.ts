import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventStore } from '../../src/event-store/event-store.js';
import { EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { BACKENDS } from '../support/test-databases.js';
import { createTestStorage, inject, settle, startTestApp, type TestStorage } from '../support/test-app.js';

const json = (rows: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/api/v1/ingest',
  headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify(rows),
});

const row = (sensor: string, ts: string, v: unknown, extra: Record<string, unknown> = {}) => ({
  system_id: 'rig-1',
  equipment_id: 'press-7',
  sensor_id: sensor,
  ts,
  v,
  ...extra,
});

describe.each(BACKENDS)('ingest → event store → projection → query (%s)', (backend) => {
  let storage: TestStorage;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    storage = await createTestStorage(backend);
    app = await startTestApp(storage.env);
  });
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
  });

  it('accepts a JSON batch and the readings query returns exactly what was accepted', async () => {
    const res = await inject(app, 
      json([
        row('PS1', '2024-05-01T10:00:00Z', 151.25, { unit: 'bar', meta: { line: 'A' } }),
        row('PS1', '2024-05-01T10:00:01+02:00', 150.5, { unit: 'bar' }),
        row('TS1', '2024-05-01T10:00:00Z', 35.1),
      ]),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-correlation-id']).toBeDefined();
    const body = res.json();
    expect(body).toMatchObject({ accepted: 3, quarantined: 0, errors: [] });
    expect(body.batch_id).toMatch(/^[0-9a-f-]{36}$/);

    await settle(app);
    const readings = await inject(app, { method: 'GET', url: '/api/v1/systems/rig-1/readings?sensor_id=PS1' });
    expect(readings.json().items).toEqual([
      { system_id: 'rig-1', equipment_id: 'press-7', sensor_id: 'PS1', ts: '2024-05-01T08:00:01.000Z', v: 150.5, unit: 'bar', meta: null },
      { system_id: 'rig-1', equipment_id: 'press-7', sensor_id: 'PS1', ts: '2024-05-01T10:00:00.000Z', v: 151.25, unit: 'bar', meta: { line: 'A' } },
    ]);
  });

  it('accepts a CSV batch and quarantines bad rows with a reason per row', async () => {
    const csv = [
      'system_id,equipment_id,sensor_id,ts,v,unit',
      'rig-2,pump-1,FS1,2024-05-01T10:00:00Z,8.5,l/min',
      'rig-2,pump-1,FS1,not-a-time,8.6,l/min',
      'rig-2,pump-1,FS1,2024-05-01T10:00:02Z,eight,l/min',
      'rig-2,,FS1,2024-05-01T10:00:03Z,8.7,l/min',
      'rig-2,pump-1,FS1,2024-05-01T10:00:04Z,8.8,l/min',
    ].join('\n');
    const res = await inject(app, { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'text/csv' }, payload: csv });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 2, quarantined: 3 });
    expect(body.errors).toEqual([
      { row: 2, field: 'ts', message: expect.stringContaining('ISO-8601') },
      { row: 3, field: 'v', message: 'must be a finite number' },
      { row: 4, field: 'equipment_id', message: 'is required' },
    ]);

    await settle(app);
    const quarantine = (await inject(app, { method: 'GET', url: `/api/v1/quarantine?batch_id=${body.batch_id}` })).json();
    expect(quarantine.items.map((i: { row: number }) => i.row).sort()).toEqual([2, 3, 4]);
    expect(quarantine.items.find((i: { row: number }) => i.row === 3)).toMatchObject({
      system_id: 'rig-2',
      raw: 'rig-2,pump-1,FS1,2024-05-01T10:00:02Z,eight,l/min',
      reasons: [{ field: 'v', message: 'must be a finite number' }],
    });
    const readings = (await inject(app, { method: 'GET', url: '/api/v1/systems/rig-2/readings' })).json();
    expect(readings.items.map((i: { v: number }) => i.v)).toEqual([8.5, 8.8]);
  });

  it('quarantines a bad timestamp, a non-number, a missing field and an unknown column', async () => {
    const res = await inject(app, 
      json([
        row('PS2', '2024-13-01T00:00:00Z', 1),
        row('PS2', '2024-05-01T10:00:00Z', 'NaN'),
        { system_id: 'rig-1', equipment_id: 'press-7', ts: '2024-05-01T10:00:00Z', v: 1 },
        row('PS2', '2024-05-01T10:00:00Z', 1, { colour: 'red' }),
      ]),
    );
    const body = res.json();
    expect(body).toMatchObject({ accepted: 0, quarantined: 4 });
    expect(body.errors.map((e: { row: number; field: string }) => `${e.row}:${e.field}`)).toEqual(['1:ts', '2:v', '3:sensor_id', '4:colour']);
    await settle(app);
    const quarantine = (await inject(app, { method: 'GET', url: `/api/v1/quarantine?batch_id=${body.batch_id}` })).json();
    expect(quarantine.items).toHaveLength(4);
    expect(quarantine.items.every((i: { system_id: string }) => i.system_id === 'rig-1')).toBe(true);
  });

  it('makes a retried request with the same Idempotency-Key a no-op that returns the first answer', async () => {
    const store = app.get<EventStore>(EVENT_STORE);
    const request = json([row('VS1', '2024-05-02T00:00:00Z', 0.61), row('VS1', 'bad', 0.6)], { 'idempotency-key': 'batch-42' });
    const first = await inject(app, request);
    const before = (await store.readAll({ limit: 100_000 })).length;
    const second = await inject(app, request);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect((await store.readAll({ limit: 100_000 })).length).toBe(before);

    const reused = await inject(app, json([row('VS1', '2024-05-02T00:00:01Z', 0.7)], { 'idempotency-key': 'batch-42' }));
    expect(reused.statusCode).toBe(422);
    expect(reused.headers['content-type']).toContain('application/problem+json');
  });

  it('stores the correlation id in the metadata of the events it causes', async () => {
    const res = await inject(app, json([row('CE', '2024-05-03T00:00:00Z', 40)], { 'x-correlation-id': 'plc-gw-7:req-99' }));
    expect(res.headers['x-correlation-id']).toBe('plc-gw-7:req-99');
    const events = await app.get<EventStore>(EVENT_STORE).readStream('readings-rig-1', { direction: 'backwards', limit: 1 });
    expect(events[0]!.metadata).toMatchObject({ correlationId: 'plc-gw-7:req-99', schemaVersion: expect.any(Number) });
  });

  it('names the request’s command as the causation of every event it appends (ingested and quarantined)', async () => {
    const res = await inject(app, json([row('CE', '2024-05-04T00:00:00Z', 40), row('CE', '2024-05-04T00:00:01Z', 'abc')], { 'x-correlation-id': 'plc-gw-7:req-100' }));
    const { batch_id: batchId } = res.json();
    const events = await app.get<EventStore>(EVENT_STORE).readStream('readings-rig-1', { direction: 'backwards', limit: 2 });
    expect(events.map((e) => e.type).sort()).toEqual(['ReadingsIngested', 'ReadingsQuarantined']);
    for (const e of events) expect(e.metadata).toMatchObject({ correlationId: 'plc-gw-7:req-100', causationId: batchId });
  });

  it('quarantines a value outside a known sensor’s physical range, naming the range; an unknown sensor keeps any finite value', async () => {
    const res = await inject(app, json([row('PS1', '2024-05-05T00:00:00Z', 1e300), row('NEW9', '2024-05-05T00:00:00Z', 1e300)]));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 1, quarantined: 1, errors: [{ row: 1, field: 'v', message: 'must be between -1 and 221 bar for sensor PS1' }] });
  });

  it('says once what is wrong with a CSV header that names no known column', async () => {
    const res = await inject(app, { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'text/csv' }, payload: 'foo,bar\n1,2' });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe('header names none of the columns system_id, equipment_id, sensor_id, ts, v, unit, meta');
  });

  it('rejects bodies it cannot read with problem+json naming the field', async () => {
    const cases = [
      { payload: '{"readings": 5}', type: 'application/json', field: 'body' },
      { payload: '[]', type: 'application/json', field: 'readings' },
      { payload: '{not json', type: 'application/json', field: 'body' },
      { payload: 'a=b', type: 'application/x-www-form-urlencoded', field: 'Content-Type' },
      { payload: 'foo,bar\n1,2', type: 'text/csv', field: 'header' },
    ];
    for (const c of cases) {
      const res = await inject(app, { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': c.type }, payload: c.payload });
      expect([400, 415]).toContain(res.statusCode);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors?.[0]?.field ?? '(none)').toBe(c.field);
    }
  });
});

describe.each(BACKENDS)('durability across restarts (%s)', (backend) => {
  it('loses nothing when the service restarts', async () => {
    const storage = await createTestStorage(backend);
    try {
      let app = await startTestApp(storage.env);
      const rows = Array.from({ length: 120 }, (_, i) => row('PS3', new Date(Date.UTC(2024, 4, 1, 0, 0, i)).toISOString(), i / 20));
      expect((await inject(app, json(rows))).json().accepted).toBe(120);
      await settle(app);
      await app.close();

      app = await startTestApp(storage.env);
      await settle(app);
      const items = (await inject(app, { method: 'GET', url: '/api/v1/systems/rig-1/readings?sensor_id=PS3&limit=1000' })).json().items;
      expect(items).toHaveLength(120);
      expect(items[119].v).toBe(5.95);
      await app.close();
    } finally {
      await storage.dispose();
    }
  });
});
