/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Database } from '../../src/database/database.js';
import { InferenceSagaService } from '../../src/inference/inference-saga.module.js';
import { DATABASE } from '../../src/infrastructure/tokens.js';
import { countSensorValues } from '../support/sensor-values.js';
import { createTestStorage, inject, settle, startTestApp, type TestStorage } from '../support/test-app.js';
import { BACKENDS } from '../support/test-databases.js';

/**
 * Issue #17, defect 3: unpaced ingest ran the saga 9–18 s behind with no signal to clients, and the lag grew
 * without bound. Now ingest answers 503 problem+json with Retry-After while the slowest subscriber (a
 * projection or the saga) is too far behind, and accepts again once it has caught up. Nothing accepted is lost.
 */
const MAX_LAG_SECONDS = 2;
let second = 0;

function csvBatch(): string {
  const lines = ['system_id,equipment_id,sensor_id,ts,v'];
  for (let i = 0; i < 20; i++) lines.push(`bp-rig,pump-1,PS1,${new Date(Date.UTC(2024, 0, 1) + second++ * 1000).toISOString()},${100 + (i % 7)}`);
  return `${lines.join('\n')}\n`;
}

describe.each(BACKENDS)('ingest backpressure (%s)', (backend) => {
  let storage: TestStorage;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    storage = await createTestStorage(backend);
    app = await startTestApp({ ...storage.env, MODELS_DIR: 'models', INGEST_MAX_LAG_SECONDS: String(MAX_LAG_SECONDS) });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
  });

  const ingest = () => inject(app, { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'text/csv' }, payload: csvBatch() });

  it('answers 503 with Retry-After while the saga is stopped, and accepts again once it has caught up', async () => {
    let accepted = 0;
    const first = await ingest();
    expect(first.statusCode).toBe(200);
    accepted += first.json().accepted;
    await settle(app);

    const saga = app.get(InferenceSagaService).saga!;
    await saga.stop();
    let refused;
    const deadline = Date.now() + 15_000;
    while (!refused && Date.now() < deadline) {
      const res = await ingest();
      if (res.statusCode === 200) accepted += res.json().accepted;
      else refused = res;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(refused?.statusCode).toBe(503);
    expect(refused!.headers['content-type']).toContain('application/problem+json');
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const problem = refused!.json();
    expect(problem.type).toBe('/problems/overloaded');
    expect(problem.behind).toBe('inference-saga');
    expect(problem.max_lag_seconds).toBe(MAX_LAG_SECONDS);
    expect(problem.lag_seconds).toBeGreaterThanOrEqual(MAX_LAG_SECONDS * 0.4);
    // The lag the gate allowed stayed under the bound.
    expect(problem.lag_seconds).toBeLessThan(MAX_LAG_SECONDS + 1);

    const metrics = (await inject(app, { url: '/metrics' })).body;
    expect(metrics).toMatch(/^ingest_backpressure_rejections_total \d+/m);
    expect(metrics).toMatch(/^ingest_backpressure_active 1$/m);

    await saga.start();
    let reopened;
    const again = Date.now() + 20_000;
    while (!reopened && Date.now() < again) {
      const res = await ingest();
      if (res.statusCode === 200) reopened = res;
      else await new Promise((r) => setTimeout(r, 250));
    }
    expect(reopened?.statusCode).toBe(200);
    accepted += reopened!.json().accepted;

    // Everything that was answered 200 is stored once; nothing refused was stored.
    await settle(app);
    expect(await countSensorValues(app.get<Database>(DATABASE).db)).toBe(accepted);
  }, 90_000);
});
