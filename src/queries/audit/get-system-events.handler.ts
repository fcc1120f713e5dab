import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import type { EventStore, Position, RecordedEvent } from '../../event-store/event-store.js';
import { toRecorded, type EventRow } from '../../event-store/postgres/event-row.js';
import { MAX_EVENT_BYTES } from '../../events/event-size.js';
import { withinBudget } from '../response-budget.js';
import { categories, streams } from '../../events/streams.js';
import { DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import { encodeCursor, GetSystemEventsQuery, type AuditEvent } from './get-system-events.query.js';
import { requireKnownSystem } from '../known-system.js';

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function toAuditEvent(e: RecordedEvent): AuditEvent {
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.metadata)) metadata[snake(k)] = v;
  return {
    event_id: e.eventId,
    type: e.type,
    stream: e.streamId,
    revision: e.revision,
    position: encodeCursor(e.position),
    occurred_at: e.metadata.occurredAt,
    recorded_at: e.createdAt,
    // As stored: auditors see exactly what was written, never an upcast copy.
    data: e.data,
    metadata,
  };
}

/**
 * The raw events of one system (its readings and anomalies streams, and analysis streams whose data names it),
 * in global order. The one query allowed to read the event store.
 */
@QueryHandler(GetSystemEventsQuery)
export class GetSystemEventsHandler implements IQueryHandler<GetSystemEventsQuery, { items: AuditEvent[]; next: string | null }> {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ systemId, params }: GetSystemEventsQuery): Promise<{ items: AuditEvent[]; next: string | null }> {
    const events =
      this.store.adapter === 'eventstoredb'
        ? await this.viaPort(systemId, params.after, params.limit + 1, params.type)
        : await this.viaSql(systemId, params.after, params.limit + 1, params.type);
    // an empty page is only an answer for a known system (known-system.ts)
    if (events.length === 0) await requireKnownSystem(this.database, systemId);
    // At most `limit` events and about RESPONSE_MAX_BYTES (each event's data is at most MAX_EVENT_BYTES).
    const items = withinBudget(events.slice(0, params.limit).map(toAuditEvent));
    return { items, next: events.length > items.length ? items[items.length - 1]!.position : null };
  }

  /** Same visibility rule as the PostgreSQL event store's readAll: only below the oldest running transaction. */
  private async viaSql(systemId: string, after: Position | undefined, limit: number, types: string[] | undefined): Promise<RecordedEvent[]> {
    const afterClause = after ? sql`and (transaction_id, global_position) > (${String(after.commit)}::xid8, ${after.prepare}::bigint)` : sql``;
    const typeClause = types ? sql`and type = any(${types}::text[])` : sql``;
    // Events stored before every event was bounded (issue #20) may be larger than a page: their data is
    // answered as a marker with its size, never loaded whole into this process.
    const { rows } = await sql<EventRow>`
      select global_position, transaction_id::text::bigint as transaction_id, stream_id, stream_revision, event_id, type, metadata, created_at,
        case when pg_column_size(data) > 65536 and octet_length(data::text) > ${MAX_EVENT_BYTES}
          then jsonb_build_object('omitted', 'data larger than the response bound', 'bytes', octet_length(data::text)) else data end as data
      from events
      where (stream_id in (${streams.readings(systemId)}, ${streams.anomalies(systemId)})
             or (stream_id like ${`${categories.analysis}%`} and data->>'systemId' = ${systemId}))
        and transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ${afterClause} ${typeClause}
      order by events.transaction_id, events.global_position
      limit ${limit}`.execute(this.database.db);
    return rows.map(toRecorded);
  }

  /** Other adapters: the port's filtered readAll, narrowed to this system. */
  private async viaPort(systemId: string, after: Position | undefined, limit: number, types: string[] | undefined): Promise<RecordedEvent[]> {
    const own = new Set([streams.readings(systemId), streams.anomalies(systemId)]);
    const out: RecordedEvent[] = [];
    let cursor = after;
    for (;;) {
      const batch = await this.store.readAll({
        after: cursor,
        limit: 1000,
        filter: { streamPrefixes: [...own, categories.analysis], ...(types ? { eventTypes: types } : {}) },
      });
      for (const e of batch) {
        const mine = own.has(e.streamId) || (e.streamId.startsWith(categories.analysis) && (e.data as { systemId?: string })?.systemId === systemId);
        if (mine) out.push(e);
        if (out.length >= limit) return out;
      }
      if (batch.length < 1000) return out;
      cursor = batch[batch.length - 1]!.position;
    }
  }
}
