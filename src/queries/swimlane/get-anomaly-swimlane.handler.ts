import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import '../../read-side/read-side.tables.js';
import { GetAnomalySwimlaneQuery, type AnomalySwimlane } from './get-anomaly-swimlane.query.js';

const RANK = ['low', 'medium', 'high', 'critical'] as const;

/** Live anomalies (anomaly_trend_windows) binned per equipment and UTC bucket, highest severity per cell. */
@QueryHandler(GetAnomalySwimlaneQuery)
export class GetAnomalySwimlaneHandler implements IQueryHandler<GetAnomalySwimlaneQuery, AnomalySwimlane> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ systemId, params }: GetAnomalySwimlaneQuery): Promise<AnomalySwimlane> {
    const db = this.database.db;
    const step = params.bucket === '1h' ? '1 hour' : '1 day';
    const version = params.model_version ? sql`and model_version = ${params.model_version}` : sql``;
    const { rows } = await sql<{ equipment_id: string; bucket: Date; rank: number; n: number }>`
      select equipment_id, date_bin(${step}::interval, window_start, timestamptz '2000-01-01') as bucket,
        max(case severity when 'low' then 0 when 'medium' then 1 when 'high' then 2 else 3 end)::int as rank, count(*)::int as n
      from anomaly_trend_windows
      where system_id = ${systemId} and source = 'live' and is_anomaly ${version}
        and window_start >= ${params.from.toISOString()}::timestamptz and window_start < ${params.to.toISOString()}::timestamptz
      group by 1, 2 order by 1, 2`.execute(db);
    const equipment = await db.selectFrom('system_equipment').select('equipment_id').where('system_id', '=', systemId).orderBy('equipment_id').execute();
    return {
      system_id: systemId,
      bucket: params.bucket,
      from: params.from.toISOString(),
      to: params.to.toISOString(),
      equipment: [...new Set([...equipment.map((e) => e.equipment_id), ...rows.map((r) => r.equipment_id)])].sort(),
      cells: rows.map((r) => ({ equipment_id: r.equipment_id, bucket: new Date(r.bucket).toISOString(), severity: RANK[r.rank]!, anomalies: r.n })),
    };
  }
}
