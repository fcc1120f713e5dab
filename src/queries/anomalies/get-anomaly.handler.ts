import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { ProblemError } from '../../http/problem.js';
import { toOperatingConditionsItem, type OperatingConditions } from '../../events/anomaly-detected.event.js';
import { GetAnomalyQuery, type AnomalyDetail } from './get-anomaly.query.js';

type Item = AnomalyDetail;

/** One recorded anomaly (anomaly_results) with its feedback history (anomaly_feedback), both read models. */
@QueryHandler(GetAnomalyQuery)
export class GetAnomalyHandler implements IQueryHandler<GetAnomalyQuery, AnomalyDetail> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ anomalyId }: GetAnomalyQuery): Promise<AnomalyDetail> {
    const db = this.database.db;
    const r = await db
      .selectFrom('anomaly_results')
      .selectAll()
      .where('event_id', '=', anomalyId)
      .where('source', '<>', 'reprojection')
      .executeTakeFirst();
    if (!r) throw new ProblemError('notFound', `no anomaly ${anomalyId}`);
    const history = await db
      .selectFrom('anomaly_feedback')
      .select(['event_id', 'actor', 'verdict', 'note', 'recorded_at'])
      .where('anomaly_id', '=', anomalyId)
      .orderBy('commit_position')
      .orderBy('prepare_position')
      .execute();
    return {
      event_id: r.event_id,
      system_id: r.system_id,
      equipment_id: r.equipment_id,
      window_start: new Date(r.window_start).toISOString(),
      window_end: new Date(r.window_end).toISOString(),
      score: Number(r.score),
      severity: r.severity as Item['severity'],
      affected_component: r.affected_component as Item['affected_component'],
      components: r.components as Item['components'],
      confidence: Number(r.confidence),
      model_version: r.model_version,
      feedback: r.feedback as Item['feedback'],
      operating_conditions: toOperatingConditionsItem(r.operating_conditions as OperatingConditions | null),
      votes: r.votes as Item['votes'],
      source: r.source as Item['source'],
      recorded_at: new Date(r.recorded_at).toISOString(),
      source_event_ids: (r.source_event_ids as string[] | null) ?? null,
      correlation_id: r.correlation_id,
      feedback_history: history.map((h) => ({
        event_id: h.event_id,
        actor: h.actor,
        verdict: h.verdict,
        note: h.note,
        recorded_at: new Date(h.recorded_at).toISOString(),
      })),
    };
  }
}
