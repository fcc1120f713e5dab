import { describe, expect, it, jest } from '@jest/globals';
import { v4 as uuidv4 } from 'uuid';
import type { NewEvent, Position } from '../../src/event-store/event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { newEvent } from '../../src/events/event-registry.js';
import { MODEL_VERSION_PROMOTED } from '../../src/events/model-version-promoted.event.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../../src/events/readings-ingested.event.js';
import { streams } from '../../src/events/streams.js';
import type { WindowScorer } from '../../src/inference/window-scorer.js';
import { FakeScorer } from '../jobs/fake-scorer.js';
import { BACKENDS } from '../support/test-databases.js';
import { sagaFixture } from './saga-fixture.js';

jest.setTimeout(300_000);

const T0 = Date.parse('2026-03-01T08:00:00.000Z');

/** The fake scorer under another version name: it stamps that version on its results. */
class VersionedScorer implements WindowScorer {
  private readonly fake = new FakeScorer();
  readonly dutyCycleSeconds = this.fake.dutyCycleSeconds;
  readonly sensors = this.fake.sensors;
  closed = false;
  constructor(readonly version: string) {}
  async scoreWindow(samples: Parameters<WindowScorer['scoreWindow']>[0], state?: unknown) {
    const scored = await this.fake.scoreWindow(samples, state);
    return { ...scored, result: { ...scored.result, modelVersion: this.version } };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** One full, anomalous 60-s window (the fake scorer flags a mean of A above 100) in minute `minute`. */
function degradedWindow(minute: number): NewEvent {
  const samples = Array.from({ length: 60 }, (_, s) => ({ ts: new Date(T0 + minute * 60_000 + s * 1000).toISOString(), values: { A: 150, B: 1 } }));
  const data: ReadingsIngestedData = { batchId: uuidv4(), systemId: 'sys-1', equipmentId: 'eq-1', source: 'json', chunk: 0, samples, units: {} };
  return newEvent(READINGS_INGESTED, uuidv4(), data, { correlationId: uuidv4(), actor: 'test' });
}

function promotion(version: string, previous: string): NewEvent {
  return newEvent(MODEL_VERSION_PROMOTED, uuidv4(), { profile: 'hydraulic-17', modelVersion: version, previousVersion: previous }, { correlationId: uuidv4(), actor: 'test' });
}

describe.each(BACKENDS)('inference saga follows ModelVersionPromoted (%s)', (backend) => {
  const f = sagaFixture(backend);
  const loaded: VersionedScorer[] = [];

  const start = () =>
    f.start(new VersionedScorer('v1'), {
      flushTimeoutMs: 120_000,
      batchSize: 50,
      loadVersion: async (version: string): Promise<WindowScorer> => {
        const scorer = new VersionedScorer(version);
        loaded.push(scorer);
        return scorer;
      },
    });
  // A window with all 60 seconds present is complete and scored at once.
  const ingestMinute = async (minute: number): Promise<Position> =>
    (await f.store.append(streams.readings('sys-1'), [degradedWindow(minute)])).position;
  const versions = async () =>
    (await f.store.readStream(streams.anomalies('sys-1')))
      .filter((e) => e.type === ANOMALY_DETECTED)
      .map((e) => `${(e.data as AnomalyDetectedData).window.from.slice(11, 16)} ${(e.data as AnomalyDetectedData).modelVersion}`);


  it('scores windows before the promotion with the old version and after it with the new one, also after a restart', async () => {
    const saga = await start();
    await saga.waitFor(await ingestMinute(0), 120_000);
    expect(await versions()).toEqual(['08:00 v1']);

    await f.store.append(streams.models, [promotion('v2', 'v1')]);
    await saga.waitFor(await ingestMinute(1), 120_000);
    expect(await versions()).toEqual(['08:00 v1', '08:01 v2']);
    expect(saga.modelVersion).toBe('v2');

    await saga.stop();
    expect(loaded.every((s) => s.closed)).toBe(true);
    const restarted = await start();
    await restarted.waitFor(await ingestMinute(2), 120_000);
    expect(restarted.modelVersion).toBe('v2');
    expect(await versions()).toEqual(['08:00 v1', '08:01 v2', '08:02 v2']);
  });
});
