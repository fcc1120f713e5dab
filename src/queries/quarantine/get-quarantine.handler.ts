import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { GetQuarantineQuery, type QuarantineItem } from './get-quarantine.query.js';

@QueryHandler(GetQuarantineQuery)
export class GetQuarantineHandler implements IQueryHandler<GetQuarantineQuery, { items: QuarantineItem[] }> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ params }: GetQuarantineQuery): Promise<{ items: QuarantineItem[] }> {
    let q = this.database.db
      .selectFrom('quarantined_rows')
      .select(['batch_id', 'row_number', 'system_id', 'raw', 'reasons', 'quarantined_at']);
    if (params.system_id) q = q.where('system_id', '=', params.system_id);
    if (params.batch_id) q = q.where('batch_id', '=', params.batch_id);
    const rows = await q.orderBy('quarantined_at', 'desc').orderBy('batch_id').orderBy('row_number').limit(params.limit).offset(params.offset).execute();
    return {
      items: rows.map((r) => ({
        batch_id: r.batch_id,
        row: r.row_number,
        system_id: r.system_id,
        raw: r.raw,
        reasons: r.reasons as QuarantineItem['reasons'],
        quarantined_at: new Date(r.quarantined_at).toISOString(),
      })),
    };
  }
}
