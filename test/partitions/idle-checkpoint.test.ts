import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { comparePositions, type EventStore, type Position } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { newEvent } from '../../src/events/event-registry.js';
import { READINGS_INGESTED } from '../../src/events/readings-ingested.event.js';
import { streams } from '../../src/events/streams.js';
import { PartitionedInferenceSaga } from '../../src/inference/partitioned-inference-saga.js';
import { readAllCheckpoints } from '../../src/projections/checkpoints.js';
import { IDLE_CHECKPOINT_MS } from '../../src/projections/partitions/idle-checkpoint.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { SensorReadingsProjection } from '../../src/projections/sensor-readings.projection.js';
import { FakeScorer } from '../jobs/fake-scorer.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';

/**
 * A partition that only passes over other partitions' events stores its position at most every IDLE_CHECKPOINT_MS.
 * When the log then goes quiet, the last position it passed must still be stored soon: ingest backpressure (on the
 * API processes too) and readiness read the stored checkpoints, and a partition left behind there closes ingest for
 * good (no new event ever comes to move it). Found by test/partitions/partitioned-workers.test.ts.
 */
describe('idle partitions store the position they passed over once the log goes quiet (postgres)', () => {
  let tdb: TestDatabase | undefined;
  const stops: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await tdb?.dispose();
  });

  it('every stored checkpoint reaches the head after a burst, round after round', async () => {
    tdb = await createTestDatabase('postgres');
    const store: EventStore = new PostgresEventStore(tdb.database, { pollIntervalMs: 20 });
    const runner = new ProjectionRunner(tdb.database, store, [new SensorReadingsProjection()], { partitions: 2 });
    const saga = new PartitionedInferenceSaga(tdb.database, store, new FakeScorer(), { flushTimeoutMs: 3_600_000 }, 2);
    await runner.start();
    await saga.start();
    stops.push(() => runner.stop(), () => saga.stop());

    const t0 = Date.parse('2026-08-01T00:00:00.000Z');
    let n = 0;
    for (let round = 0; round < 3; round++) {
      // A burst for one equipment: its partition reads each event, the other passes over each, faster than it may store.
      for (let i = 0; i < 10; i++, n++) {
        const data = { batchId: randomUUID(), systemId: 'quiet-rig', equipmentId: 'eq-1', source: 'json' as const, chunk: 0, samples: [{ ts: new Date(t0 + n * 1000).toISOString(), values: { A: 1, B: 2 } }], units: {} };
        await store.append(streams.readings('quiet-rig'), [newEvent(READINGS_INGESTED, randomUUID(), data, { correlationId: randomUUID() })], 'any');
        await new Promise((r) => setTimeout(r, 40));
      }
      const head = (await store.headPosition())!;
      const deadline = Date.now() + IDLE_CHECKPOINT_MS * 6;
      let behind: { name: string; position: Position }[] = [];
      for (;;) {
        const stored = await readAllCheckpoints(tdb.database.db);
        behind = stored.filter((c) => comparePositions(c.position, head) < 0);
        if (stored.length === 4 && behind.length === 0) break;
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect({ round, behind }).toEqual({ round, behind: [] });
    }
  }, 60_000);
});
