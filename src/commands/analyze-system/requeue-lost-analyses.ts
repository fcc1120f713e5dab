import type { Database } from '../../database/database.js';
import type { EventStore } from '../../event-store/event-store.js';
import type { AnalysisRequestedData } from '../../events/analysis.events.js';
import { streams } from '../../events/streams.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import type { AnalysisJobData } from './analysis-job.js';

/**
 * The handler records AnalysisRequested before it queues the job. When the enqueue fails (NATS down) and the
 * client never retries, the analysis would stay 'requested' for ever (issue #17: "none lost"). The worker
 * queues such analyses again from their AnalysisRequested event; the queue's de-duplication by analysis id
 * drops the job when it is still waiting there, and a job that already ran is no longer 'requested'.
 * Returns how many were queued again.
 */
export async function requeueLostAnalyses(
  database: Database,
  store: EventStore,
  queue: JobQueue<AnalysisJobData>,
  olderThanMs: number,
): Promise<number> {
  const before = new Date(Date.now() - olderThanMs).toISOString();
  const rows = await database.db
    .selectFrom('analyses')
    .select('analysis_id')
    .where('status', '=', 'requested')
    .where('mode', '=', 'async')
    .where('requested_at', '<', before as never)
    .limit(100)
    .execute();
  let queued = 0;
  for (const { analysis_id } of rows) {
    const [first] = await store.readStream(streams.analysis(analysis_id), { limit: 1 });
    if (!first) continue;
    const d = first.data as AnalysisRequestedData;
    const job: AnalysisJobData = {
      analysisId: d.analysisId,
      systemId: d.systemId,
      from: d.from,
      to: d.to,
      modelVersion: d.modelVersion,
      correlationId: String(first.metadata.correlationId),
      actor: String(first.metadata.actor),
      requestedEventId: first.eventId,
    };
    if (!(await queue.enqueue(d.analysisId, job)).duplicate) queued++;
  }
  return queued;
}
