import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadUci } from '../../src/inference/evaluation/uci-data.js';
import { SENSORS } from '../../src/inference/features/hydraulic-17.js';
import { createTestStorage, inject, startTestApp, type TestStorage } from '../support/test-app.js';

// The shipped UCI sample (models/sample, CC BY 4.0): 48 cycles with their conditions.
const data = loadUci('models/sample');
const labels = data.labels!;

function cycleWhere(match: (c: { cooler: number; valve: number; pump: number; accumulator: number }) => boolean): number {
  const i = labels.cooler.findIndex((_, k) =>
    match({ cooler: labels.cooler[k]!, valve: labels.valve[k]!, pump: labels.pump[k]!, accumulator: labels.accumulator[k]! }),
  );
  if (i < 0) throw new Error('no such cycle in models/sample');
  return i;
}

function windowBody(cycle: number) {
  const start = Date.UTC(2024, 4, 1, 12, 0, 0);
  const samples = Array.from({ length: 60 }, (_, s) => ({
    ts: new Date(start + s * 1000).toISOString(),
    values: Object.fromEntries(SENSORS.map((sensor, j) => [sensor, data.windows[cycle]![j]![s]!])),
  }));
  return { system_id: 'rig-1', equipment_id: 'hydraulic-1', samples };
}

const post = (app: NestFastifyApplication, body: unknown) =>
  inject(app, { method: 'POST', url: '/api/v1/detect', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

describe('POST /api/v1/detect', () => {
  let storage: TestStorage;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    storage = await createTestStorage('pglite');
    app = await startTestApp(storage.env);
  });
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
  });

  it('finds nothing in a healthy cycle', async () => {
    const healthy = cycleWhere((c) => c.cooler === 100 && c.valve === 100 && c.pump === 0 && c.accumulator === 130);
    const res = await post(app, windowBody(healthy));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ is_anomaly: false, severity: 'none', affected_component: null, mode: 'window' });
    expect(body.model_version).toEqual(expect.any(String));
    for (const c of ['cooler', 'valve', 'pump', 'accumulator']) expect(body.components[c].degraded).toBe(false);
    expect(Object.keys(body.votes)).toEqual(expect.arrayContaining(['rf', 'xgb', 'helm', 'adaptive']));
  });

  it('flags a cooler near total failure as critical', async () => {
    const failing = cycleWhere((c) => c.cooler === 3 && c.valve === 100 && c.pump === 0 && c.accumulator === 130);
    const body = (await post(app, windowBody(failing))).json();
    expect(body).toMatchObject({ is_anomaly: true, affected_component: 'cooler', severity: 'critical' });
    expect(body.components.cooler).toMatchObject({ condition: 3, degraded: true });
  });

  it('scores a single sample', async () => {
    const res = await post(app, { values: windowBody(0).samples[30]!.values });
    expect(res.statusCode).toBe(200);
    expect(res.json().mode).toBe('sample');
  });

  it('names every missing, unknown, non-finite and out-of-range sensor', async () => {
    const values: Record<string, unknown> = { ...windowBody(0).samples[0]!.values };
    delete values.PS1;
    values.XX9 = 1;
    values.TS1 = 'hot';
    values.PS2 = 1e9;
    const res = await post(app, { values });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const fields = res.json().errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['values.PS1', 'values.PS2', 'values.TS1', 'values.XX9']);
  });

  it('rejects a body with neither values nor samples', async () => {
    const res = await post(app, { equipment_id: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('values');
  });
});
