import { describe, expect, it, jest } from '@jest/globals';
import { v4 as uuidv4 } from 'uuid';
import { comparePositions, type EventStore, type NewEvent, type Position } from '../../src/event-store/event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { newEvent } from '../../src/events/event-registry.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../../src/events/readings-ingested.event.js';
import { streams } from '../../src/events/streams.js';
import { INFERENCE_SAGA } from '../../src/inference/inference.saga.js';
import { anomalyDetectedEvent, anomalyEventId } from '../../src/inference/window-anomaly-event.js';
import type { WindowScorer } from '../../src/inference/window-scorer.js';
import { readCheckpoint } from '../../src/projections/projection-runner.js';
import { FakeScorer } from '../jobs/fake-scorer.js';
import { BACKENDS } from '../support/test-databases.js';
import { sagaFixture } from './saga-fixture.js';

// PostgreSQL visibility waits for the oldest running transaction on the (shared) server: allow for a loaded machine.
jest.setTimeout(300_000);

const T0 = Date.parse('2026-03-01T08:00:00.000Z');

function samples(minute: number, from: number, to: number, level: number): ReadingsIngestedData['samples'] {
  const out: ReadingsIngestedData['samples'] = [];
  for (let s = from; s < to; s++) out.push({ ts: new Date(T0 + minute * 60_000 + s * 1000).toISOString(), values: { A: level + (s % 3), B: 1 } });
  return out;
}

function ingest(equipmentId: string, list: ReadingsIngestedData['samples'], correlationId = uuidv4()): NewEvent {
  const data: ReadingsIngestedData = { batchId: uuidv4(), systemId: 'sys-1', equipmentId, source: 'json', chunk: 0, samples: list, units: {} };
  return newEvent(READINGS_INGESTED, uuidv4(), data, { correlationId, actor: 'test' });
}

async function anomalies(store: EventStore) {
  return (await store.readStream(streams.anomalies('sys-1'))).filter((e) => e.type === ANOMALY_DETECTED);
}

describe.each(BACKENDS)('inference saga on %s', (backend) => {
  const f = sagaFixture(backend);
  const start = (scorer: WindowScorer = new FakeScorer(), flushTimeoutMs = 120_000) => f.start(scorer, { flushTimeoutMs, batchSize: 3, restartDelayMs: 50 });
  const append = async (event: NewEvent): Promise<Position> => (await f.store.append(streams.readings('sys-1'), [event])).position;


  it('records AnomalyDetected for anomalous windows only, with deterministic id, causation and correlation', async () => {
    const saga = await start();
    const healthy = ingest('eq-1', samples(0, 0, 60, 10), 'corr-healthy');
    const degraded = ingest('eq-1', samples(1, 0, 60, 150), 'corr-degraded');
    await append(healthy);
    const last = await append(degraded);
    await saga.waitFor(last, 120_000);
    const found = await anomalies(f.store);
    expect(found).toHaveLength(1);
    const [event] = found;
    const data = event!.data as AnomalyDetectedData;
    expect(event!.eventId).toBe(anomalyEventId('sys-1', 'eq-1', T0 + 60_000, 'fake-1'));
    expect(data.window).toEqual({ from: new Date(T0 + 60_000).toISOString(), to: new Date(T0 + 120_000).toISOString() });
    expect(data.affectedComponent).toBe('cooler');
    expect(data.sourceEventIds).toEqual([degraded.eventId]);
    expect(event!.metadata.causationId).toBe(degraded.eventId);
    expect(event!.metadata.correlationId).toBe('corr-degraded');
    // The checkpoint is stored (it may already be past the saga's own AnomalyDetected).
    expect(comparePositions((await readCheckpoint(f.tdb.database.db, INFERENCE_SAGA))!, last)).toBeGreaterThanOrEqual(0);
  });

  it('keeps an open window across a restart: the two halves meet in a new saga instance', async () => {
    const first = await start();
    const half1 = ingest('eq-2', samples(0, 0, 30, 150));
    await first.waitFor(await append(half1), 120_000);
    expect(first.status().openWindows).toBe(1);
    await first.stop();
    const windows = await f.tdb.database.db.selectFrom('inference_windows').selectAll().execute();
    expect(windows).toHaveLength(1);

    const second = await start();
    const half2 = ingest('eq-2', samples(0, 30, 60, 150));
    await second.waitFor(await append(half2), 120_000);
    const [event] = await anomalies(f.store);
    expect((event!.data as AnomalyDetectedData).sourceEventIds).toEqual([half1.eventId, half2.eventId]);
    expect(await f.tdb.database.db.selectFrom('inference_windows').selectAll().execute()).toHaveLength(0);
  });

  it('replays after a crash between append and checkpoint commit without duplicating anything', async () => {
    const events = Array.from({ length: 6 }, (_, m) => ingest('eq-3', samples(m, 0, 60, m % 2 ? 150 : 10)));
    let last!: Position;
    for (const e of events) last = await append(e);
    const saga = await start();
    await saga.waitFor(last, 120_000);
    await saga.stop();
    expect(await anomalies(f.store)).toHaveLength(3);

    // What a crash before the commit leaves behind: anomalies appended, but checkpoint and state from before.
    await f.tdb.database.db.deleteFrom('projection_checkpoints').where('name', '=', INFERENCE_SAGA).execute();
    await f.tdb.database.db.deleteFrom('inference_equipment').execute();
    const replayScorer = new FakeScorer();
    const again = await start(replayScorer);
    await again.waitFor(last, 120_000);
    expect(replayScorer.calls).toBe(6);
    const after = await anomalies(f.store);
    expect(after).toHaveLength(3);
    expect(new Set(after.map((e) => e.eventId)).size).toBe(3);
  });

  it('a batch whose decisions are partly recorded already (crash between appends) appends only the missing ones', async () => {
    const events = Array.from({ length: 4 }, (_, m) => ingest('eq-6', samples(m, 0, 60, 150)));
    let last!: Position;
    for (const e of events) last = await append(e);
    // What an earlier, interrupted run left: the decision for minute 2 only (same deterministic id).
    const scorer = new FakeScorer();
    const early = await scorer.scoreWindow(samples(2, 0, 60, 150));
    const window = { systemId: 'sys-1', equipmentId: 'eq-6', start: T0 + 120_000, end: T0 + 180_000, samples: [], present: 60, sourceEventIds: [events[2]!.eventId], correlationId: 'c', causationId: events[2]!.eventId };
    await f.store.append(streams.anomalies('sys-1'), [anomalyDetectedEvent(window, early.result, { correlationId: 'c', causationId: events[2]!.eventId, actor: 'test' })]);

    const saga = await start(new FakeScorer());
    await saga.waitFor(last, 120_000);
    const found = await anomalies(f.store);
    expect(found.map((e) => (e.data as AnomalyDetectedData).window.from).sort()).toEqual([0, 1, 2, 3].map((m) => new Date(T0 + m * 60_000).toISOString()));
    expect(new Set(found.map((e) => e.eventId)).size).toBe(4);
  });

  it('ignores and counts late samples for a scored window; flushes an incomplete window when event time moves on', async () => {
    const saga = await start(new FakeScorer(), 60_000);
    await append(ingest('eq-4', samples(0, 0, 60, 150)));
    await append(ingest('eq-4', samples(0, 10, 12, 150))); // late: window 0 is scored
    await append(ingest('eq-4', samples(1, 0, 58, 150))); // window 1: 58 of 60 seconds
    const last = await append(ingest('eq-4', samples(3, 0, 1, 10))); // watermark 08:03:00 = end of window 1 + 60 s
    await saga.waitFor(last, 120_000);
    const found = await anomalies(f.store);
    expect(found.map((e) => (e.data as AnomalyDetectedData).window.from)).toEqual([
      new Date(T0).toISOString(),
      new Date(T0 + 60_000).toISOString(),
    ]);
    const eq = await f.tdb.database.db.selectFrom('inference_equipment').selectAll().where('equipment_id', '=', 'eq-4').executeTakeFirstOrThrow();
    expect(Number(eq.late_samples)).toBe(2);
    expect(Number(eq.scored_windows)).toBe(2);
  });

  it('resubscribes from its stored state after a failure', async () => {
    let failOnce = true;
    const flaky = new FakeScorer();
    const original = flaky.scoreWindow.bind(flaky);
    // A transient store error: the first append of an anomaly throws once.
    const realAppend = f.store.append.bind(f.store);
    f.store.append = async (streamId, events, expected) => {
      if (failOnce && streamId.startsWith('anomalies-')) {
        failOnce = false;
        throw new Error('connection reset');
      }
      return realAppend(streamId, events, expected);
    };
    flaky.scoreWindow = original;
    const saga = await start(flaky);
    const last = await append(ingest('eq-5', samples(0, 0, 60, 150)));
    await saga.waitFor(last, 120_000);
    expect(await anomalies(f.store)).toHaveLength(1);
  });
});
