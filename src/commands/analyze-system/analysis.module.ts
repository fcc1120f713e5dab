import { Module } from '@nestjs/common';
import type { AppConfig } from '../../config/config.schema.js';
import { InferenceSagaModule } from '../../inference/inference-saga.module.js';
import { CONFIG } from '../../infrastructure/tokens.js';
import { InProcessJobQueue } from '../../jobs/in-process-job-queue.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import { NatsJobQueue } from '../../jobs/nats-job-queue.js';
import { ProjectionsModule } from '../../projections/projections.module.js';
import { AnalysesController } from '../../queries/analyses/analyses.controller.js';
import { GetAnalysisHandler } from '../../queries/analyses/get-analysis.handler.js';
import { AnomaliesController } from '../../queries/anomalies/anomalies.controller.js';
import { GetAnomaliesHandler } from '../../queries/anomalies/get-anomalies.handler.js';
import { ANALYSIS_QUEUE, type AnalysisJobData } from './analysis-job.js';
import { AnalysisWorker } from './analysis.worker.js';
import { AnalyzeController } from './analyze.controller.js';
import { AnalyzeSystemHandler } from './analyze-system.handler.js';

/** Work queue for analyses: NATS JetStream with NATS_URL (server mode), in-process otherwise (embedded). */
export async function createAnalysisQueue(config: AppConfig): Promise<JobQueue<AnalysisJobData>> {
  const settings = {
    maxDeliveries: config.ANALYSIS_MAX_DELIVERIES,
    ackWaitMs: config.ANALYSIS_ACK_WAIT_MS,
    backoffBaseMs: config.ANALYSIS_BACKOFF_MS,
    backoffMaxMs: Math.max(config.ANALYSIS_BACKOFF_MS, 60_000),
  };
  if (!config.NATS_URL) return new InProcessJobQueue<AnalysisJobData>(config.ANALYSIS_QUEUE, settings);
  return NatsJobQueue.connect<AnalysisJobData>({
    servers: config.NATS_URL,
    stream: config.ANALYSIS_QUEUE,
    subject: `jobs.${config.ANALYSIS_QUEUE.toLowerCase()}`,
    durable: `${config.ANALYSIS_QUEUE}_workers`,
    ...settings,
  });
}

/**
 * Issue #5: inference saga (via InferenceSagaModule), analyze command with its work queue and worker,
 * the anomalies and analyses queries.
 */
@Module({
  imports: [InferenceSagaModule, ProjectionsModule],
  controllers: [AnalyzeController, AnomaliesController, AnalysesController],
  providers: [
    { provide: ANALYSIS_QUEUE, inject: [CONFIG], useFactory: createAnalysisQueue },
    AnalyzeSystemHandler,
    AnalysisWorker,
    GetAnomaliesHandler,
    GetAnalysisHandler,
  ],
})
export class AnalysisModule {}
