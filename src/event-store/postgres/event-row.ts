import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store.js';

/** A row of the `events` table as the adapter selects it. */
export interface EventRow {
  global_position: number;
  transaction_id: number;
  stream_id: string;
  stream_revision: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  created_at: Date;
}

/** The select list that produces an EventRow (the transaction id as a number). */
export const EVENT_COLUMNS = sql.raw(
  'global_position, transaction_id::text::bigint as transaction_id, stream_id, stream_revision, event_id, type, data, metadata, created_at',
);

export function toRecorded(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    revision: Number(row.stream_revision),
    position: { commit: Number(row.transaction_id), prepare: Number(row.global_position) },
    data: row.data,
    metadata: row.metadata as RecordedEvent['metadata'],
    createdAt: new Date(row.created_at).toISOString(),
  };
}
