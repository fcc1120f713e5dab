import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store/event-store.js';
import { READINGS_QUARANTINED, type ReadingsQuarantinedData } from '../events/readings-quarantined.event.js';
import type { Projection, ProjectionContext } from './projection.js';

export class QuarantineProjection implements Projection {
  readonly name = 'quarantined_rows';
  readonly eventTypes = [READINGS_QUARANTINED];
  readonly tables = ['quarantined_rows'] as const;

  async apply({ trx, schema }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    const rows = events
      .filter((e) => e.type === READINGS_QUARANTINED)
      .flatMap((e) => {
        const d = e.data as ReadingsQuarantinedData;
        return d.rows.map((r) => ({
          batch_id: d.batchId,
          row_number: r.row,
          system_id: d.systemId,
          raw: r.raw ?? null,
          raw_bytes: r.rawBytes,
          raw_sha256: r.rawSha256,
          raw_truncated: r.rawTruncated,
          reasons: r.errors,
          event_id: e.eventId,
          quarantined_at: e.metadata.occurredAt,
        }));
      });
    if (rows.length === 0) return;
    await sql`
      insert into ${sql.table(`${schema}.quarantined_rows`)} (batch_id, row_number, system_id, raw, raw_bytes, raw_sha256, raw_truncated, reasons, event_id, quarantined_at)
      -- A row sent as JSON null comes out of jsonb_to_recordset as SQL NULL; keep it as the JSON value null.
      select batch_id, row_number, system_id, coalesce(raw, 'null'::jsonb), raw_bytes, raw_sha256, raw_truncated, reasons, event_id, quarantined_at
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(batch_id uuid, row_number int, system_id text,
        raw jsonb, raw_bytes int, raw_sha256 text, raw_truncated boolean, reasons jsonb, event_id uuid, quarantined_at timestamptz)
      on conflict (batch_id, row_number) do nothing`.execute(trx);
  }
}
