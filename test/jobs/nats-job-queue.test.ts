import { randomBytes } from 'node:crypto';
import type { JobQueue } from '../../src/jobs/job-queue.js';
import { NatsJobQueue } from '../../src/jobs/nats-job-queue.js';
import { jobQueueContract } from './job-queue.contract.js';
import { NATS_URL } from './nats-url.js';


jobQueueContract('nats-jetstream', () => {
  const id = randomBytes(4).toString('hex');
  const options = { servers: NATS_URL, stream: `TEST_JOBS_${id}`, subject: `test.jobs.${id}`, durable: `workers_${id}` };
  const queues: NatsJobQueue<{ n: number }>[] = [];
  return {
    async create(settings) {
      const q = await NatsJobQueue.connect<{ n: number }>({ ...options, ...settings });
      queues.push(q);
      return q;
    },
    async connection(of) {
      const q = await NatsJobQueue.connect<{ n: number }>({ ...options, ...of.settings });
      queues.push(q);
      return q as JobQueue<{ n: number }>;
    },
    async dispose() {
      await queues[0]?.destroy();
      await Promise.all(queues.map((q) => q.close()));
    },
  };
});
