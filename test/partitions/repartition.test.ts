/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { describe, expect, it, jest } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sql } from 'kysely';
import { openRuntime } from '../../src/cli/cli-runtime.js';
import { loadDetector } from '../../src/inference/inference-saga.module.js';
import { allProjections } from '../../src/projections/projections.module.js';
import { repartition } from '../../src/projections/partitions/repartition.js';
import { createTestStorage, inject, startTestApp, type TestStorage } from '../support/test-app.js';
import { BACKENDS } from '../support/test-databases.js';
import { collect, confirmFirstAnomaly, drain, ingestCycles, ORDER, type Outcome } from './pipeline-outcome.js';

/**
 * `projections repartition` (issue #19): P changes only through the command, which takes every lease, brings every
 * partition to one position (the head when it started, including events ingested while no worker ran), then moves the
 * checkpoints. The service then runs the new P from there, and the result equals a run that never changed P.
 */
jest.setTimeout(600_000);

const HALF = 4;

async function reference(backend: (typeof BACKENDS)[number]): Promise<Outcome> {
  const storage = await createTestStorage(backend);
  const app = await startTestApp({ ...storage.env, MODELS_DIR: 'models', PARTITIONS: '1' });
  try {
    await ingestCycles(app, 0, HALF);
    await drain(app);
    await ingestCycles(app, HALF, ORDER.length);
    await drain(app);
    await confirmFirstAnomaly(app);
    await drain(app);
    return await collect(app);
  } finally {
    await app.close();
    await storage.dispose();
  }
}

async function repartitionTo(env: Record<string, string>, to: number, timeoutMs = 300_000) {
  const runtime = await openRuntime({ LOG_LEVEL: 'silent', ...env, MODELS_DIR: 'models' });
  const detector = await loadDetector(runtime.config);
  try {
    return await repartition({ config: runtime.config, database: runtime.database, store: runtime.store, projections: allProjections(), scorer: detector.scorer, to, timeoutMs });
  } finally {
    await detector.close();
    await runtime.close();
  }
}

describe.each(BACKENDS)('projections repartition on %s', (backend) => {
  it('1 -> 4 with events no worker has seen yet: all partitions meet at the head, the checkpoints move, and the result equals a run at P = 1', async () => {
    const expected = await reference(backend);
    let storage: TestStorage | undefined;
    let app: NestFastifyApplication | undefined;
    try {
      storage = await createTestStorage(backend);
      app = await startTestApp({ ...storage.env, MODELS_DIR: 'models', PARTITIONS: '1' });
      await ingestCycles(app, 0, HALF);
      await drain(app);
      if (backend !== 'pglite') {
        // A running worker holds the leases: the command waits for them, then gives up naming the cause.
        await expect(repartitionTo(storage.env, 4, 2_000)).rejects.toThrow(/held by running workers/);
      }
      await app.close();
      // The API alone (no worker) goes on ingesting: the partitions fall behind the head.
      app = await startTestApp({ ...storage.env, MODELS_DIR: 'models', ROLE: 'api' });
      await ingestCycles(app, HALF, ORDER.length);
      await app.close();
      app = undefined;

      const moved = await repartitionTo(storage.env, 4);
      expect(moved).toMatchObject({ from: 1, to: 4 });
      expect(moved.moved).toHaveLength(4 * 4);

      // Every partition of every partitioned consumer stands where the command left it: one position, the head it saw.
      const runtime = await openRuntime({ LOG_LEVEL: 'silent', ...storage.env });
      const { rows } = await sql<{ name: string; commit_position: string; prepare_position: string }>`
        select name, commit_position, prepare_position from projection_checkpoints where name like '%#%' order by name`.execute(runtime.database.db);
      await runtime.close();
      expect(rows.map((r) => r.name)).toEqual(moved.moved.slice().sort());
      expect(new Set(rows.map((r) => `${r.commit_position}/${r.prepare_position}`))).toEqual(new Set([`${moved.position!.commit}/${moved.position!.prepare}`]));

      app = await startTestApp({ ...storage.env, MODELS_DIR: 'models' });
      await drain(app);
      const health = await inject(app, { method: 'GET', url: '/health/ready' });
      expect(health.json().details.partitions).toMatchObject({ status: 'up', partitions: 4, held: 4 * 4 + 4 });
      await confirmFirstAnomaly(app);
      await drain(app);
      const got = await collect(app);
      expect(got.anomalies).toEqual(expected.anomalies);
      expect(got.readings).toEqual(expected.readings);
      expect(got.results).toEqual(expected.results);
      expect(got.hourly).toEqual(expected.hourly);
      expect(got.scored).toEqual(expected.scored);
      expect(got.checkpoints.filter((n) => n.includes('#'))).toEqual(moved.moved.slice().sort());
      // No checkpoint of the old count is left behind.
      for (const consumer of ['inference-saga', 'sensor_readings', 'anomaly_results', 'anomaly_trend']) expect(got.checkpoints).not.toContain(consumer);
    } finally {
      await app?.close();
      await storage?.dispose();
    }
  });
});
