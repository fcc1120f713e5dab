import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import { withinBudget } from '../response-budget.js';
import { encodeQuarantineCursor, GetQuarantineQuery, type QuarantineItem } from './get-quarantine.query.js';

/** Rows projected before migration 0009 kept their input whole: beyond this, only a prefix is answered. */
const OLD_RAW_MAX_BYTES = 65_536;

@QueryHandler(GetQuarantineQuery)
export class GetQuarantineHandler implements IQueryHandler<GetQuarantineQuery, { items: QuarantineItem[]; next: string | null }> {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ params }: GetQuarantineQuery): Promise<{ items: QuarantineItem[]; next: string | null }> {
    const where = [sql`true`];
    if (params.system_id) where.push(sql`system_id = ${params.system_id}`);
    if (params.batch_id) where.push(sql`batch_id = ${params.batch_id}`);
    if (params.after) {
      const { quarantinedAt, batchId, row } = params.after;
      where.push(sql`(quarantined_at < ${quarantinedAt}::timestamptz or (quarantined_at = ${quarantinedAt}::timestamptz and (batch_id, row_number) > (${batchId}::uuid, ${row})))`);
    }
    // A whole pre-0009 raw of megabytes never leaves the database: its first 4 KiB as text, and its size.
    const { rows } = await sql<{ batch_id: string; row_number: number; system_id: string | null; raw: unknown; raw_bytes: number | null; raw_sha256: string | null; raw_truncated: boolean; reasons: unknown; quarantined_at: Date; at_text: string }>`
      select batch_id, row_number, system_id, reasons, quarantined_at, raw_sha256,
        to_char(quarantined_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at_text,
        case when raw_bytes is null and pg_column_size(raw) > ${OLD_RAW_MAX_BYTES} then to_jsonb(left(raw::text, 4096)) else raw end as raw,
        coalesce(raw_bytes, case when pg_column_size(raw) > ${OLD_RAW_MAX_BYTES} then octet_length(raw::text) end) as raw_bytes,
        raw_truncated or (raw_bytes is null and pg_column_size(raw) > ${OLD_RAW_MAX_BYTES}) as raw_truncated
      from quarantined_rows
      where ${sql.join(where, sql` and `)}
      order by quarantined_at desc, batch_id, row_number
      limit ${params.limit + 1}`.execute(this.database.db);
    const items = withinBudget(
      rows.slice(0, params.limit).map((r) => ({
        batch_id: r.batch_id,
        row: r.row_number,
        system_id: r.system_id,
        raw: r.raw,
        raw_bytes: r.raw_bytes === null ? null : Number(r.raw_bytes),
        raw_sha256: r.raw_sha256,
        raw_truncated: r.raw_truncated,
        reasons: r.reasons as QuarantineItem['reasons'],
        quarantined_at: new Date(r.quarantined_at).toISOString(),
      })),
    );
    const last = rows[items.length - 1];
    return {
      items,
      next: rows.length > items.length && last ? encodeQuarantineCursor({ quarantinedAt: last.at_text, batchId: last.batch_id, row: last.row_number }) : null,
    };
  }
}
