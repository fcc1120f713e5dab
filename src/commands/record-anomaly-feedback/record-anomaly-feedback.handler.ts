import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Database } from '../../database/database.js';
import type { EventStore } from '../../event-store/event-store.js';
import { ANOMALY_FEEDBACK_RECORDED } from '../../events/anomaly-detected.event.js';
import { newEvent } from '../../events/event-registry.js';
import { streams } from '../../events/streams.js';
import { DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import { waitForCheckpoints } from '../../projections/wait-for-checkpoints.js';
import { AnomalyNotFoundError } from './anomaly-not-found.error.js';
import { decideFeedback, evolveFeedback, type FeedbackState } from './decide-feedback.js';
import { RecordAnomalyFeedbackCommand, type FeedbackResult } from './record-anomaly-feedback.command.js';

/** How long the answer waits for the anomaly_results projection, so that a re-read shows the verdict. */
const READ_YOUR_WRITE_MS = 5_000;

/**
 * Thin handler: the anomaly and its feedback history come from the anomaly_results read model (a verdict on an
 * anomaly the log does not hold is refused), `decideFeedback` decides, the event is appended to the system's
 * anomalies stream. Its id is deterministic, so a lagging read model can at worst turn a repeat into a no-op.
 */
@CommandHandler(RecordAnomalyFeedbackCommand)
export class RecordAnomalyFeedbackHandler implements ICommandHandler<RecordAnomalyFeedbackCommand, FeedbackResult> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  async execute({ anomalyId, verdict, note, context }: RecordAnomalyFeedbackCommand): Promise<FeedbackResult> {
    const db = this.database.db;
    const anomaly = await db
      .selectFrom('anomaly_results')
      .select(['system_id', 'equipment_id'])
      .where('event_id', '=', anomalyId)
      .where('source', '<>', 'reprojection')
      .executeTakeFirst();
    if (!anomaly) throw new AnomalyNotFoundError(anomalyId);
    const history = await db
      .selectFrom('anomaly_feedback')
      .select(['event_id', 'actor', 'verdict'])
      .where('anomaly_id', '=', anomalyId)
      .orderBy('commit_position')
      .orderBy('prepare_position')
      .execute();
    let state: FeedbackState = new Map();
    for (const h of history) state = evolveFeedback(state, { eventId: h.event_id, actor: h.actor, verdict: h.verdict });
    const decision = decideFeedback({ anomalyId, systemId: anomaly.system_id, equipmentId: anomaly.equipment_id, actor: context.actor, verdict, note }, state);
    if (!decision) return { recorded: false, anomaly_id: anomalyId, verdict, event_id: null };
    const result = await this.store.append(
      streams.anomalies(anomaly.system_id),
      [newEvent(ANOMALY_FEEDBACK_RECORDED, decision.eventId, decision.data, { correlationId: context.correlationId, actor: context.actor })],
      'any',
    );
    await waitForCheckpoints(this.database.db, ['anomaly_results'], result.position, { timeoutMs: READ_YOUR_WRITE_MS });
    return { recorded: result.written, anomaly_id: anomalyId, verdict, event_id: result.written ? decision.eventId : null };
  }

}
