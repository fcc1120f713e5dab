import { describe, expect, it, jest } from '@jest/globals';
import { sql } from 'kysely';
import { v4 as uuidv4 } from 'uuid';
import type { NewEvent } from '../../src/event-store/event-store.js';
import { BASELINE_ESTABLISHED, type BaselineEstablishedData } from '../../src/events/baseline-established.event.js';
import { newEvent } from '../../src/events/event-registry.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../../src/events/readings-ingested.event.js';
import { streams } from '../../src/events/streams.js';
import type { HealthyReference } from '../../src/inference/baseline/healthy-baseline.js';
import type { WindowScorer } from '../../src/inference/window-scorer.js';
import { FakeScorer } from '../jobs/fake-scorer.js';
import { BACKENDS } from '../support/test-databases.js';
import { sagaFixture } from './saga-fixture.js';

jest.setTimeout(300_000);

const T0 = Date.parse('2026-03-01T08:00:00.000Z');

/** The fake scorer, plus: its third window of an equipment completes a healthy reference (as the detector reports it). */
class CommissioningScorer implements WindowScorer {
  private readonly fake = new FakeScorer();
  readonly version = 'fake-1';
  readonly dutyCycleSeconds = this.fake.dutyCycleSeconds;
  readonly sensors = this.fake.sensors;
  async scoreWindow(samples: Parameters<WindowScorer['scoreWindow']>[0], state?: unknown) {
    const scored = await this.fake.scoreWindow(samples, state);
    const seen = (scored.state as { seen: number }).seen;
    const ref: HealthyReference = { regime: 'cooler-100', features: ['A.mean'], windows: 3, mean: [50], std: [1], selfDeviationP95: 1.5 };
    return { ...scored, result: { ...scored.result, ...(seen === 3 ? { baselineEstablished: ref } : {}) } };
  }
}

function healthyWindow(minute: number): NewEvent {
  const samples = Array.from({ length: 60 }, (_, s) => ({ ts: new Date(T0 + minute * 60_000 + s * 1000).toISOString(), values: { A: 50, B: 1 } }));
  const data: ReadingsIngestedData = { batchId: uuidv4(), systemId: 'sys-1', equipmentId: 'eq-1', source: 'json', chunk: 0, samples, units: {} };
  return newEvent(READINGS_INGESTED, uuidv4(), data, { correlationId: uuidv4(), actor: 'test' });
}

describe.each(BACKENDS)('inference saga records healthy baselines (%s)', (backend) => {
  const f = sagaFixture(backend);
  const start = () => f.start(new CommissioningScorer(), { flushTimeoutMs: 120_000, batchSize: 50 });
  const baselines = async () => (await f.store.readStream(streams.baselines('sys-1'))).filter((e) => e.type === BASELINE_ESTABLISHED);


  it('given commissioning windows, when the reference is complete, then one BaselineEstablished is recorded, and a replay from position 0 records nothing twice', async () => {
    const saga = await start();
    let last;
    for (let m = 0; m < 5; m++) last = (await f.store.append(streams.readings('sys-1'), [healthyWindow(m)])).position;
    await saga.waitFor(last!, 120_000);
    const first = await baselines();
    expect(first).toHaveLength(1);
    const data = first[0]!.data as BaselineEstablishedData;
    expect(data).toMatchObject({ systemId: 'sys-1', equipmentId: 'eq-1', regime: 'cooler-100', modelVersion: 'fake-1', source: 'commissioning', windows: { count: 3, last: '2026-03-01T08:02:00.000Z' } });
    expect(first[0]!.metadata).toMatchObject({ schemaVersion: 1, actor: 'inference-saga', modelVersion: 'fake-1' });

    // replay: the saga forgets its state and checkpoint and reads the log again
    await saga.stop();
    await sql`delete from projection_checkpoints where name = 'inference-saga'`.execute(f.tdb.database.db);
    await sql`delete from inference_equipment`.execute(f.tdb.database.db);
    await sql`delete from inference_windows`.execute(f.tdb.database.db);
    const replay = await start();
    await replay.waitFor(last!, 120_000);
    const again = await baselines();
    expect(again.map((e) => e.eventId)).toEqual(first.map((e) => e.eventId));
  });
});
