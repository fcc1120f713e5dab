import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../database/database.js';
import type { Tables } from '../../database/tables.js';
import { metrics } from '../../observability/metrics.js';
import { CatchUpSubscription } from '../catch-up-subscription.js';
import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventFilter,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.js';

const CHANNEL = 'events_appended';

interface EventRow {
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

const COLUMNS = sql.raw(
  'global_position, transaction_id::text::bigint as transaction_id, stream_id, stream_revision, event_id, type, data, metadata, created_at',
);

function toRecorded(row: EventRow): RecordedEvent {
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

function satisfies(expected: ExpectedRevision, actual: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual < 0;
  if (expected === 'stream_exists') return actual >= 0;
  return expected === actual;
}

/**
 * Event store on one PostgreSQL-compatible database (PostgreSQL via `pg`, or PGlite).
 * Global order for readers is (transaction_id, global_position), read only below the oldest transaction
 * still running: a sequence value taken by a transaction that commits later can then never be skipped.
 */
export class PostgresEventStore implements EventStore {
  readonly adapter: string;
  private readonly db: Kysely<Tables>;

  constructor(
    private readonly database: Database,
    private readonly options: { pollIntervalMs?: number; applySnapshotRule?: boolean } = {},
  ) {
    this.db = database.db;
    this.adapter = database.backend === 'pglite' ? 'pglite' : 'postgres';
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const stop = metrics.eventStoreAppendDuration.startTimer({ adapter: this.adapter });
    const result = await this.db.transaction().execute(async (trx) => {
      await sql`insert into streams (stream_id, revision) values (${streamId}, -1) on conflict do nothing`.execute(trx);
      const locked = await sql<{ revision: number }>`
        select revision from streams where stream_id = ${streamId} for update`.execute(trx);
      const current = Number(locked.rows[0]!.revision);

      const ids = events.map((e) => e.eventId);
      const existing = await sql<EventRow>`
        select ${COLUMNS} from events where event_id = any(${ids}::uuid[]) order by global_position`.execute(trx);
      if (existing.rows.length > 0) {
        // A retry of the very same append is a success that writes nothing; anything else is a conflict.
        const sameAppend = existing.rows.length === ids.length && existing.rows.every((r) => r.stream_id === streamId);
        if (!sameAppend) throw new DuplicateEventIdError(streamId, existing.rows.map((r) => r.event_id));
        const last = toRecorded(existing.rows[existing.rows.length - 1]!);
        return { nextExpectedRevision: last.revision, position: last.position, written: false };
      }
      if (!satisfies(expected, current)) throw new WrongExpectedRevisionError(streamId, expected, current);

      const rows = events.map((e, i) => ({
        stream_revision: current + 1 + i,
        event_id: e.eventId,
        type: e.type,
        data: e.data,
        metadata: e.metadata,
      }));
      const inserted = await sql<{ global_position: number; transaction_id: number }>`
        insert into events (stream_id, stream_revision, event_id, type, data, metadata)
        select ${streamId}, x.stream_revision, x.event_id, x.type, x.data, x.metadata
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as x(stream_revision bigint, event_id uuid, type text, data jsonb, metadata jsonb)
        order by x.stream_revision
        returning global_position, transaction_id::text::bigint as transaction_id`.execute(trx);
      const next = current + events.length;
      await sql`update streams set revision = ${next} where stream_id = ${streamId}`.execute(trx);
      await sql`select pg_notify(${CHANNEL}, '')`.execute(trx);
      const last = inserted.rows.reduce((a, b) => (Number(b.global_position) > Number(a.global_position) ? b : a));
      return {
        nextExpectedRevision: next,
        position: { commit: Number(last.transaction_id), prepare: Number(last.global_position) },
        written: true,
      };
    });
    stop();
    if (result.written) for (const e of events) metrics.eventsAppended.inc({ type: e.type });
    return result;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const from =
      options.fromRevision === undefined
        ? sql``
        : backwards
          ? sql`and stream_revision <= ${options.fromRevision}`
          : sql`and stream_revision >= ${options.fromRevision}`;
    const limit = options.limit === undefined ? sql`` : sql`limit ${options.limit}`;
    const { rows } = await sql<EventRow>`
      select ${COLUMNS} from events where stream_id = ${streamId} ${from}
      order by stream_revision ${sql.raw(backwards ? 'desc' : 'asc')} ${limit}`.execute(this.db);
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { after, limit = 1000, filter } = options;
    const afterClause =
      after && after.commit >= 0
        ? sql`and (transaction_id, global_position) > (${String(after.commit)}::xid8, ${after.prepare}::bigint)`
        : sql``;
    const visible =
      this.options.applySnapshotRule === false
        ? sql``
        : sql`and transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;
    const { rows } = await sql<EventRow>`
      select ${COLUMNS} from events
      where true ${afterClause} ${visible} ${filterClause(filter)}
      order by transaction_id, global_position
      limit ${limit}`.execute(this.db);
    return rows.map(toRecorded);
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return new CatchUpSubscription(
      {
        readAll: (o) => this.readAll(o),
        onAppended: (wake) => this.database.listen(CHANNEL, wake),
      },
      options,
      this.options.pollIntervalMs,
    );
  }

  async headPosition(): Promise<Position | undefined> {
    const { rows } = await sql<{ commit: number; prepare: number }>`
      select transaction_id::text::bigint as commit, global_position as prepare from events
      where transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      order by transaction_id desc, global_position desc limit 1`.execute(this.db);
    return rows[0] ? { commit: Number(rows[0].commit), prepare: Number(rows[0].prepare) } : undefined;
  }

  /** The database is owned by whoever created it; nothing to release here. */
  async close(): Promise<void> {}
}

function filterClause(filter: EventFilter | undefined): RawBuilder<unknown> {
  if (!filter) return sql``;
  const parts: RawBuilder<unknown>[] = [];
  if (filter.streamPrefixes?.length) {
    parts.push(sql`and stream_id like any(${filter.streamPrefixes.map((p) => `${p.replace(/[\\%_]/g, '\\$&')}%`)}::text[])`);
  }
  if (filter.eventTypes?.length) parts.push(sql`and type = any(${[...filter.eventTypes]}::text[])`);
  return sql.join(parts, sql` `);
}
