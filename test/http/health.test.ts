/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { settle, startTestApp } from '../support/test-app.js';
import { listen } from './http-test-client.js';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

describe('/health/ready', () => {
  let app: NestFastifyApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is up with database, event store, NATS, models and projections when all answer', async () => {
    app = await startTestApp({ DATA_DIR: 'memory://', NATS_URL });
    const http = await listen(app);
    await settle(app);
    const res = await http('/health/ready');
    expect(res.status).toBe(200);
    const body = res.json();
    expect(Object.keys(body.details).sort()).toEqual(['database', 'event_store', 'models', 'nats', 'partitions', 'projections']);
    // One process (ROLE=all) holds every unit: the projections whole and P partitions of the heavy ones and the saga.
    expect(body.details.partitions).toMatchObject({ status: 'up', role: 'all', partitions: 1 });
    expect(body.details.partitions.held).toBe(body.details.partitions.units);
    expect(body.details.nats.status).toBe('up');
    expect(body.details.projections.sensor_readings).toMatchObject({ caught_up: true, lag_events: 0 });
  });

  it('refuses to start when no model can be loaded, naming the problem (the registry fails fast)', async () => {
    await expect(startTestApp({ DATA_DIR: 'memory://', MODELS_DIR: '/nonexistent-models' })).rejects.toThrow(/nonexistent-models/);
  });

  it('is 503 while a projection is more than READY_MAX_LAG_EVENTS behind', async () => {
    app = await startTestApp({ DATA_DIR: 'memory://', READY_MAX_LAG_EVENTS: '0' });
    const http = await listen(app);
    await settle(app);
    expect((await http('/health/ready')).status).toBe(200);
    await app.get(ProjectionRunner).stop();
    const rows = [{ system_id: 'h-rig', equipment_id: 'e', sensor_id: 'S', ts: '2024-01-01T00:00:00Z', v: 1 }];
    expect((await http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows) })).status).toBe(200);
    const res = await http('/health/ready');
    expect(res.status).toBe(503);
    expect(res.json().checks.projections).toMatchObject({ status: 'down', max_lag_events: 0, sensor_readings: { lag_events: expect.any(Number) } });
    expect(res.json().checks.projections.sensor_readings.lag_events).toBeGreaterThan(0);
  }, 180_000);
});
