import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { AnalysisStatus } from '../../commands/analyze-system/analyze-system.command.js';
import type { Database } from '../../database/database.js';
import { ProblemError } from '../../http/problem.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { GetAnalysisQuery } from './get-analysis.query.js';

/** Status of one analysis from the `analyses` read model. */
@QueryHandler(GetAnalysisQuery)
export class GetAnalysisHandler implements IQueryHandler<GetAnalysisQuery, AnalysisStatus> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ analysisId }: GetAnalysisQuery): Promise<AnalysisStatus> {
    const r = await this.database.db.selectFrom('analyses').selectAll().where('analysis_id', '=', analysisId).executeTakeFirst();
    if (!r) throw new ProblemError('notFound', `no analysis ${analysisId}`, [{ field: 'id', message: 'no such analysis' }]);
    const total = r.windows_total === null ? null : Number(r.windows_total);
    const done = Number(r.windows_done);
    return {
      analysis_id: r.analysis_id,
      system_id: r.system_id,
      from: new Date(r.range_from).toISOString(),
      to: new Date(r.range_to).toISOString(),
      mode: r.mode as AnalysisStatus['mode'],
      model_version: r.model_version,
      status: r.status,
      progress: r.status === 'completed' ? 1 : total ? Math.min(1, done / total) : 0,
      attempts: Number(r.attempts),
      counts: {
        windows: r.windows === null ? null : Number(r.windows),
        anomalies: r.anomalies === null ? null : Number(r.anomalies),
        already_recorded: r.already_recorded === null ? null : Number(r.already_recorded),
      },
      error: r.error,
      requested_at: new Date(r.requested_at).toISOString(),
      updated_at: new Date(r.updated_at).toISOString(),
    };
  }
}
