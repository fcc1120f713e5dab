/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { describe, expect, it, jest } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { partitionKey } from '../../src/events/partition-key.js';
import { createTestStorage, startTestApp, type TestStorage } from '../support/test-app.js';
import { BACKENDS } from '../support/test-databases.js';
import { collect, confirmFirstAnomaly, drain, EQUIPMENT, ingestCycles, ORDER, type Outcome } from './pipeline-outcome.js';

/**
 * Issue #19: the saga and the heavy projections run as P partitions, and P must not change a single result. The same
 * input (UCI cycles, several equipment over two systems, anomalies among them, one operator verdict) goes through one
 * process with P = 1 and with P = 4; the log's decisions and every read model must come out the same.
 */
jest.setTimeout(600_000);

async function run(backend: (typeof BACKENDS)[number], partitions: number): Promise<Outcome> {
  let storage: TestStorage | undefined;
  let app: NestFastifyApplication | undefined;
  try {
    storage = await createTestStorage(backend);
    app = await startTestApp({ ...storage.env, MODELS_DIR: 'models', PARTITIONS: String(partitions) });
    await ingestCycles(app, 0, ORDER.length);
    await drain(app);
    await confirmFirstAnomaly(app);
    await drain(app);
    return await collect(app);
  } finally {
    await app?.close();
    await storage?.dispose();
  }
}

describe.each(BACKENDS)('partitioned saga and projections on %s', (backend) => {
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
