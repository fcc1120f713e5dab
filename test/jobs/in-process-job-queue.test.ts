import { InProcessJobQueue } from '../../src/jobs/in-process-job-queue.js';
import type { JobQueue } from '../../src/jobs/job-queue.js';
import { jobQueueContract } from './job-queue.contract.js';

jobQueueContract('in-process', () => {
  const queues: JobQueue<{ n: number }>[] = [];
  return {
    async create(settings) {
      const q = new InProcessJobQueue<{ n: number }>(`test-${Date.now()}`, settings);
      queues.push(q);
      return q;
    },
    // One process: a second "worker" shares the queue; closing it must not close the shared queue.
    async connection(of) {
      return { ...of, name: of.name, settings: of.settings, enqueue: (id, d) => of.enqueue(id, d), consume: (o) => of.consume(o), depth: () => of.depth(), close: async () => undefined };
    },
    async dispose() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
});
