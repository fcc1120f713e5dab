import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import type { EventStore } from '../../event-store/event-store.js';
import type { DetectorHolder } from '../../inference/inference-saga.module.js';
import { ANOMALY_DETECTOR } from '../../inference/window-scorer.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import type { JobConsumer, JobQueue } from '../../jobs/job-queue.js';
import { ANALYSIS_QUEUE, type AnalysisJobData } from './analysis-job.js';
import { AnalysisRunner } from './analysis-runner.js';
import { requeueLostAnalyses } from './requeue-lost-analyses.js';

/** How often, and after how long, a worker queues again an async analysis whose job never reached the queue. */
const REQUEUE_EVERY_MS = 15_000;
const REQUEUE_AFTER_MS = 30_000;

/** Consumes the analysis work queue where workers run (ROLE all | worker). */
@Injectable()
export class AnalysisWorker implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('AnalysisWorker');
  private consumer: JobConsumer | undefined;
  private requeueTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ANOMALY_DETECTOR) private readonly detector: DetectorHolder,
    @Inject(ANALYSIS_QUEUE) private readonly queue: JobQueue<AnalysisJobData>,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const scorer = this.detector.scorer;
    if (this.config.ROLE === 'api' || !scorer) return;
    const runner = new AnalysisRunner(this.database, this.store, scorer);
    this.consumer = await this.queue.consume({
      handler: async (job) => {
        const log = { analysis_id: job.data.analysisId, attempt: job.attempt, correlation_id: job.data.correlationId };
        this.logger.log(log, 'analysis started');
        try {
          const outcome = await runner.run(job.data, job.attempt, () => job.working());
          this.logger.log({ ...log, status: outcome.status, anomalies: outcome.counts?.anomalies }, 'analysis finished');
        } catch (error) {
          this.logger.warn({ ...log, err: error instanceof Error ? error.message : String(error) }, 'analysis attempt failed');
          throw error;
        }
      },
      onExhausted: async (job, error) => {
        this.logger.error({ analysis_id: job.data?.analysisId, attempts: job.attempt, err: String(error) }, 'analysis failed for good');
        if (job.data) await runner.fail(job.data, job.attempt, error);
      },
    });
    this.logger.log({ queue: this.queue.name }, 'analysis worker consuming');
    const requeue = () =>
      requeueLostAnalyses(this.database, this.store, this.queue, REQUEUE_AFTER_MS)
        .then((n) => n && this.logger.warn({ analyses: n }, 'queued again analyses whose job was lost'))
        .catch(() => undefined); // the database or queue is away; the next round tries again
    void requeue();
    this.requeueTimer = setInterval(() => void requeue(), REQUEUE_EVERY_MS);
    this.requeueTimer.unref();
  }

  /** Finishes (and acks) the job in hand before the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.requeueTimer);
    await this.consumer?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
