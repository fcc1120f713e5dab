import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Job, JobConsumer, JobQueue, JobQueueSettings } from '../../src/jobs/job-queue.js';

export interface QueueFactory {
  /** A fresh queue (own stream/consumer for NATS); `connection` = another worker process on the same queue. */
  create(settings: Partial<JobQueueSettings>): Promise<JobQueue<{ n: number }>>;
  connection(of: JobQueue<{ n: number }>): Promise<JobQueue<{ n: number }>>;
  dispose(): Promise<void>;
}

const settings: Partial<JobQueueSettings> = { maxDeliveries: 3, ackWaitMs: 1500, backoffBaseMs: 100, backoffMaxMs: 1000, duplicateWindowMs: 60_000 };

function until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

/** Acks are asynchronous on the server: the queue must drain to zero within a few seconds. */
async function expectDepthZero(queue: JobQueue<{ n: number }>): Promise<void> {
  let depth = await queue.depth();
  for (let i = 0; i < 50 && depth !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    depth = await queue.depth();
  }
  expect(depth).toBe(0);
}

/** The delivery contract every JobQueue adapter must keep (src/jobs/job-queue.ts). */
export function jobQueueContract(name: string, factory: () => QueueFactory): void {
  describe(`JobQueue contract: ${name}`, () => {
    let f: QueueFactory;
    let queue: JobQueue<{ n: number }>;
    const consumers: JobConsumer[] = [];

    beforeEach(async () => {
      f = factory();
      queue = await f.create(settings);
    });
    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((c) => c.stop({ abandon: true })));
      await f.dispose();
    });

    it('de-duplicates a job enqueued twice with the same id', async () => {
      expect(await queue.enqueue('job-1', { n: 1 })).toEqual({ duplicate: false });
      expect(await queue.enqueue('job-1', { n: 1 })).toEqual({ duplicate: true });
      const seen: string[] = [];
      consumers.push(await queue.consume({ handler: async (job) => void seen.push(job.id), onExhausted: async () => undefined }));
      await until(() => seen.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual(['job-1']);
      await expectDepthZero(queue);
    });

    it('retries a failing job with growing delays and acks it once it succeeds', async () => {
      const attempts: { attempt: number; at: number }[] = [];
      let exhausted = 0;
      consumers.push(
        await queue.consume({
          handler: async (job) => {
            attempts.push({ attempt: job.attempt, at: Date.now() });
            if (job.attempt < 3) throw new Error('transient');
          },
          onExhausted: async () => void exhausted++,
        }),
      );
      await queue.enqueue('job-2', { n: 2 });
      await until(() => attempts.length === 3);
      await until(() => false, 300).catch(() => undefined);
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      // backoff 100 ms then 200 ms (exponential)
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(90);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(190);
      expect(exhausted).toBe(0);
      await expectDepthZero(queue);
    });

    it('ends a poison job in onExhausted after the configured deliveries, once', async () => {
      const attempts: number[] = [];
      const exhausted: { id: string; attempt: number; error: string }[] = [];
      consumers.push(
        await queue.consume({
          handler: async (job) => {
            attempts.push(job.attempt);
            throw new Error('poison');
          },
          onExhausted: async (job, error) => void exhausted.push({ id: job.id, attempt: job.attempt, error: (error as Error).message }),
        }),
      );
      await queue.enqueue('job-3', { n: 3 });
      await until(() => exhausted.length === 1);
      await new Promise((r) => setTimeout(r, 500));
      expect(attempts).toEqual([1, 2, 3]);
      expect(exhausted).toEqual([{ id: 'job-3', attempt: 3, error: 'poison' }]);
      await expectDepthZero(queue);
    });

    it('redelivers the job of a worker killed mid-job to another worker, which finishes it once', async () => {
      const dying = await f.connection(queue);
      let started!: () => void;
      const startedOnce = new Promise<void>((r) => (started = r));
      const finished: { attempt: number; worker: string }[] = [];
      const a = await dying.consume({
        handler: async () => {
          started();
          await new Promise(() => undefined); // hangs until the worker is killed
        },
        onExhausted: async () => undefined,
      });
      await queue.enqueue('job-4', { n: 4 });
      await startedOnce;
      await a.stop({ abandon: true });
      await dying.close();
      consumers.push(
        await queue.consume({ handler: async (job) => void finished.push({ attempt: job.attempt, worker: 'b' }), onExhausted: async () => undefined }),
      );
      await until(() => finished.length === 1);
      await new Promise((r) => setTimeout(r, 2000));
      expect(finished).toEqual([{ attempt: 2, worker: 'b' }]);
      await expectDepthZero(queue);
    });
  });
}
