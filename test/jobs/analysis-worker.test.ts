import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { v4 as uuidv4 } from 'uuid';
import type { AnalysisJobData } from '../../src/commands/analyze-system/analysis-job.js';
import { AnalysisRunner } from '../../src/commands/analyze-system/analysis-runner.js';
import { analysisRequested } from '../../src/commands/analyze-system/decide-analysis.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { ANALYSIS_COMPLETED, ANALYSIS_FAILED, ANALYSIS_STARTED, type AnalysisCompletedData, type AnalysisFailedData } from '../../src/events/analysis.events.js';
import { ANOMALY_DETECTED } from '../../src/events/anomaly-detected.event.js';
import { newEvent } from '../../src/events/event-registry.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../../src/events/readings-ingested.event.js';
import { streams } from '../../src/events/streams.js';
import { InProcessJobQueue } from '../../src/jobs/in-process-job-queue.js';
import type { JobConsumer, JobQueue, JobQueueSettings } from '../../src/jobs/job-queue.js';
import { NatsJobQueue } from '../../src/jobs/nats-job-queue.js';
import { applyBatch } from '../../src/projections/projection-runner.js';
import { SensorReadingsProjection } from '../../src/projections/sensor-readings.projection.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { FakeScorer } from './fake-scorer.js';
import { NATS_URL } from './nats-url.js';

const settings: Partial<JobQueueSettings> = { maxDeliveries: 3, ackWaitMs: 1500, backoffBaseMs: 100, backoffMaxMs: 1000, duplicateWindowMs: 60_000 };
jest.setTimeout(300_000);
const T0 = Date.parse('2026-04-01T06:00:00.000Z');
const SYSTEM = 'sys-a';

type Queue = JobQueue<AnalysisJobData>;
interface QueueKind {
  name: string;
  create(): Promise<{ queue: Queue; second(): Promise<Queue>; dispose(): Promise<void> }>;
}

const kinds: QueueKind[] = [
  {
    name: 'in-process',
    async create() {
      const queue = new InProcessJobQueue<AnalysisJobData>(`analysis-${randomBytes(3).toString('hex')}`, settings);
      // One process: the "other worker" shares the queue; closing it must not close the queue.
      return { queue, second: async () => ({ ...queue, name: queue.name, settings: queue.settings, enqueue: (i, d) => queue.enqueue(i, d), consume: (o) => queue.consume(o), depth: () => queue.depth(), close: async () => undefined }), dispose: () => queue.close() };
    },
  },
  {
    name: 'nats-jetstream',
    async create() {
      const id = randomBytes(4).toString('hex');
      const options = { servers: NATS_URL, stream: `TEST_ANALYSIS_${id}`, subject: `test.analysis.${id}`, durable: `analysis_${id}`, ...settings };
      const queue = await NatsJobQueue.connect<AnalysisJobData>(options);
      const others: NatsJobQueue<AnalysisJobData>[] = [];
      return {
        queue,
        second: async () => {
          const q = await NatsJobQueue.connect<AnalysisJobData>(options);
          others.push(q);
          return q;
        },
        async dispose() {
          await queue.destroy();
          await Promise.all([queue, ...others].map((q) => q.close()));
        },
      };
    },
  },
];

function minute(m: number, level: number): ReadingsIngestedData['samples'] {
  return Array.from({ length: 60 }, (_, s) => ({ ts: new Date(T0 + m * 60_000 + s * 1000).toISOString(), values: { A: level, B: 1 } }));
}

describe.each(BACKENDS)('analysis jobs on %s', (backend) => {
  describe.each(kinds)('queue $name', (kind) => {
    let tdb: TestDatabase;
    let store: EventStore;
    let q: Awaited<ReturnType<QueueKind['create']>>;
    const consumers: JobConsumer[] = [];

    beforeEach(async () => {
      tdb = await createTestDatabase(backend);
      store = new PostgresEventStore(tdb.database);
      q = await kind.create();
      // Six minutes of readings for one equipment: minutes 1, 3, 5 are anomalous for the fake scorer.
      const events = Array.from({ length: 6 }, (_, m) =>
        newEvent(READINGS_INGESTED, uuidv4(), { batchId: uuidv4(), systemId: SYSTEM, equipmentId: 'eq-1', source: 'json', chunk: 0, samples: minute(m, m % 2 ? 150 : 10), units: {} } satisfies ReadingsIngestedData, { correlationId: 'c', actor: 't' }),
      );
      await store.append(streams.readings(SYSTEM), events);
      // Setup only: read the whole table (other runs on the shared server may hold the snapshot horizon back).
      await applyBatch(tdb.database.db, new SensorReadingsProjection(), await new PostgresEventStore(tdb.database, { applySnapshotRule: false }).readAll());
    });
    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((c) => c.stop({ abandon: true })));
      await q.dispose();
      await tdb.dispose();
    });

    async function request(modelVersion = 'fake-1'): Promise<AnalysisJobData> {
      const analysisId = randomUUID();
      const data = { analysisId, systemId: SYSTEM, from: new Date(T0).toISOString(), to: new Date(T0 + 6 * 60_000).toISOString(), mode: 'async' as const, modelVersion };
      const requested = analysisRequested(data, { correlationId: 'corr-x', actor: 'tester' });
      await store.append(streams.analysis(analysisId), [requested], 'no_stream');
      return { ...data, correlationId: 'corr-x', actor: 'tester', requestedEventId: requested.eventId };
    }

    async function work(queue: Queue, scorer: FakeScorer): Promise<JobConsumer> {
      const runner = new AnalysisRunner(tdb.database, store, scorer);
      return queue.consume({
        handler: async (job) => void (await runner.run(job.data, job.attempt, () => job.working())),
        onExhausted: (job, error) => runner.fail(job.data, job.attempt, error),
      });
    }

    async function outcome(analysisId: string, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const events = await store.readStream(streams.analysis(analysisId));
        if (events.some((e) => e.type === ANALYSIS_COMPLETED || e.type === ANALYSIS_FAILED)) return events;
        if (Date.now() > deadline) throw new Error('analysis did not finish');
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('a worker killed mid-job: the job is redelivered and finishes once, no anomaly duplicated', async () => {
      const job = await request();
      const dying = await q.second();
      const doomed = new FakeScorer();
      let reachedFourth!: () => void;
      const fourth = new Promise<void>((r) => (reachedFourth = r));
      doomed.beforeScore = async (n) => {
        if (n === 4) {
          reachedFourth();
          await new Promise(() => undefined); // the process dies here
        }
      };
      const a = await work(dying, doomed);
      await q.queue.enqueue(job.analysisId, job);
      await fourth;
      await a.stop({ abandon: true });
      await dying.close();
      // Window 2 (minute 1) was recorded by the killed worker before it died.
      expect((await store.readStream(streams.anomalies(SYSTEM))).length).toBe(1);

      consumers.push(await work(q.queue, new FakeScorer()));
      const events = await outcome(job.analysisId);
      await new Promise((r) => setTimeout(r, 500));
      const all = await store.readStream(streams.analysis(job.analysisId));
      expect(all.filter((e) => e.type === ANALYSIS_COMPLETED)).toHaveLength(1);
      expect(all.filter((e) => e.type === ANALYSIS_STARTED).map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
      const completed = events.find((e) => e.type === ANALYSIS_COMPLETED)!.data as AnalysisCompletedData;
      expect(completed).toMatchObject({ windows: 6, anomalies: 3, alreadyRecorded: 1 });
      const anomalies = (await store.readStream(streams.anomalies(SYSTEM))).filter((e) => e.type === ANOMALY_DETECTED);
      expect(anomalies).toHaveLength(3);
      expect(new Set(anomalies.map((e) => e.eventId)).size).toBe(3);
    });

    it('a duplicate request for the same analysis id is de-duplicated: one run', async () => {
      const job = await request();
      expect((await q.queue.enqueue(job.analysisId, job)).duplicate).toBe(false);
      expect((await q.queue.enqueue(job.analysisId, job)).duplicate).toBe(true);
      const scorer = new FakeScorer();
      consumers.push(await work(q.queue, scorer));
      await outcome(job.analysisId);
      await new Promise((r) => setTimeout(r, 500));
      expect(scorer.calls).toBe(6);
      const all = await store.readStream(streams.analysis(job.analysisId));
      expect(all.filter((e) => e.type === ANALYSIS_STARTED)).toHaveLength(1);
    });

    it('a poison job ends in AnalysisFailed after the configured deliveries', async () => {
      const job = await request('not-loaded');
      consumers.push(await work(q.queue, new FakeScorer()));
      await q.queue.enqueue(job.analysisId, job);
      const events = await outcome(job.analysisId);
      const failed = events.filter((e) => e.type === ANALYSIS_FAILED);
      expect(failed).toHaveLength(1);
      expect(failed[0]!.data as AnalysisFailedData).toMatchObject({ attempts: 3, error: expect.stringContaining('not-loaded') });
      expect(events.some((e) => e.type === ANALYSIS_COMPLETED)).toBe(false);
    });
  });
});
