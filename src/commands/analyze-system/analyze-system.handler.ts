import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Database } from '../../database/database.js';
import type { EventStore } from '../../event-store/event-store.js';
import type { AnalysisRequestedData } from '../../events/analysis.events.js';
import { toOperatingConditionsItem } from '../../events/anomaly-detected.event.js';
import { streams } from '../../events/streams.js';
import { ProblemError } from '../../http/problem.js';
import type { DetectorHolder } from '../../inference/inference-saga.module.js';
import { ANOMALY_DETECTOR } from '../../inference/window-scorer.js';
import { DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { ANALYSIS_QUEUE, type AnalysisJobData } from './analysis-job.js';
import { AnalysisRunner } from './analysis-runner.js';
import { AnalyzeSystemCommand, type AnalyzeOutcome } from './analyze-system.command.js';
import { analysisIdFor, analysisRequested } from './decide-analysis.js';
import { requireKnownSystem } from '../../queries/known-system.js';

/**
 * Records AnalysisRequested in `analysis-{id}`, then either scores the range now (sync) or puts the job on
 * the work queue (async). The request is recorded before the job is queued: a lost enqueue leaves a
 * 'requested' analysis that a retry with the same Idempotency-Key queues again (de-duplicated by id).
 */
@CommandHandler(AnalyzeSystemCommand)
export class AnalyzeSystemHandler implements ICommandHandler<AnalyzeSystemCommand, AnalyzeOutcome> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(ANOMALY_DETECTOR) private readonly detector: DetectorHolder,
    @Inject(ANALYSIS_QUEUE) private readonly queue: JobQueue<AnalysisJobData>,
    private readonly projections: ProjectionRunner,
  ) {}

  async execute({ systemId, body, context, idempotencyKey }: AnalyzeSystemCommand): Promise<AnalyzeOutcome> {
    const scorer = this.detector.scorer;
    if (!scorer) throw new ProblemError('unavailable', 'no model is loaded; analyses are not available', undefined, { 'retry-after': '60' });
    const modelVersion = body.model_version ?? scorer.version;
    if (modelVersion !== scorer.version) {
      throw new ProblemError('validation', 'model version is not loaded', [
        { field: 'model_version', message: `only ${scorer.version} is loaded by this service` },
      ]);
    }
    await requireKnownSystem(this.database, systemId);
    const analysisId = analysisIdFor(context.actor, idempotencyKey, randomUUID);
    const data: AnalysisRequestedData = { analysisId, systemId, from: body.from, to: body.to, mode: body.mode, modelVersion };
    const requested = analysisRequested(data, { correlationId: context.correlationId, actor: context.actor });
    const appended = await this.store.append(streams.analysis(analysisId), [requested], 'no_stream');
    const job: AnalysisJobData = { ...data, correlationId: context.correlationId, actor: context.actor, requestedEventId: requested.eventId };

    if (!appended.written) {
      const [first] = await this.store.readStream(streams.analysis(analysisId), { limit: 1 });
      const before = first?.data as AnalysisRequestedData | undefined;
      if (!before || before.systemId !== systemId || before.from !== body.from || before.to !== body.to || before.mode !== body.mode || before.modelVersion !== modelVersion) {
        throw new ProblemError('idempotencyConflict', 'Idempotency-Key was used for another analysis request', [
          { field: 'Idempotency-Key', message: 'already used with a different body' },
        ]);
      }
      // Queue again in case the first enqueue was lost; the queue drops it if the job is known.
      if (before.mode === 'async') await this.queue.enqueue(analysisId, { ...job, correlationId: String(first!.metadata.correlationId) });
      await this.projections.waitFor(appended.position, 5_000).catch(() => undefined);
      return { kind: 'replayed', analysisId };
    }

    if (body.mode === 'sync') {
      const runner = new AnalysisRunner(this.database, this.store, scorer);
      let outcome;
      try {
        outcome = await runner.run(job, 1);
      } catch (error) {
        await runner.fail(job, 1, error);
        throw error;
      }
      const counts = outcome.counts!;
      return {
        kind: 'sync',
        body: {
          analysis_id: analysisId,
          status: 'completed',
          counts: { windows: counts.windows, dropped_windows: outcome.dropped, anomalies: counts.anomalies, already_recorded: counts.alreadyRecorded },
          duration_ms: counts.durationMs,
          anomalies: outcome.anomalies.map((a) => ({
            event_id: a.eventId,
            system_id: a.systemId,
            equipment_id: a.equipmentId,
            window_start: a.window.from,
            window_end: a.window.to,
            score: a.score,
            severity: a.severity,
            affected_component: a.affectedComponent,
            components: a.components,
            confidence: a.confidence,
            model_version: a.modelVersion,
            operating_conditions: toOperatingConditionsItem(a.operatingConditions),
          })),
        },
      };
    }

    await this.queue.enqueue(analysisId, job);
    // Read-your-writes: GET on the status URL finds the analysis right away.
    await this.projections.waitFor(appended.position, 5_000).catch(() => undefined);
    return { kind: 'async', body: { analysis_id: analysisId, status: 'requested', status_url: `/api/v1/analyses/${analysisId}` } };
  }
}
