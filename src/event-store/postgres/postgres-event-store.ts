import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../database/database.js';
import type { Tables } from '../../database/tables.js';
import { metrics } from '../../observability/metrics.js';
import { CatchUpSubscription } from '../catch-up-subscription.js';
import type { ResubscribeOptions } from '../resubscribe.js';
import { RoundTrips } from '../round-trips.js';
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

import { eventPartitionKey } from '../../events/partition-key.js';
import { EVENT_COLUMNS as COLUMNS, toRecorded, type EventRow } from './event-row.js';

const CHANNEL = 'events_appended';
/** Other processes' subscribers learn of appends within this delay (this process's at once). */
const NOTIFY_DELAY_MS = 5;

export interface PostgresEventStoreOptions {
  /** Idle poll interval of subscriptions (NOTIFY wakes them earlier). */
  pollIntervalMs?: number;
  /** Rows per readAll page when a caller gives no limit. */
  pageSize?: number;
  /**
   * Only for the contract test that proves the snapshot rule matters: `false` reads everything committed,
   * which lets a subscriber skip an event whose transaction commits after a later-numbered one.
   */
  applySnapshotRule?: boolean;
  /**
   * Test hook: runs inside the append's transaction after the insert, before COMMIT (e.g. pg_sleep to make
   * commits interleave out of sequence order). Without it an append is one auto-committed statement.
   */
  beforeCommit?: (trx: Kysely<Tables>) => Promise<void>;
  /** How subscriptions retry failed reads (default: src/event-store/resubscribe.ts). */
  resubscribe?: ResubscribeOptions;
}

/**
 * Event store on one PostgreSQL-compatible database (PostgreSQL via `pg`, or PGlite).
 * Global order for readers is (transaction_id, global_position), read only below the oldest transaction
 * still running: a sequence value taken by a transaction that commits later can then never be skipped.
 */
export class PostgresEventStore implements EventStore {
  readonly adapter: string;
  /** Statements sent for appends (the append itself, retries, and the shared NOTIFY). */
  readonly roundTrips = new RoundTrips();
  private readonly db: Kysely<Tables>;
  private readonly localWakers = new Set<() => void>();
  private notifyPending = false;

  constructor(
    private readonly database: Database,
    private readonly options: PostgresEventStoreOptions = {},
  ) {
    this.db = database.db;
    this.adapter = database.backend === 'pglite' ? 'pglite' : 'postgres';
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const stop = metrics.eventStoreAppendDuration.startTimer({ adapter: this.adapter });
    this.roundTrips.appends++;
    const result = await this.appendAlone(streamId, events, expected);
    stop();
    if (result.written) for (const e of events) metrics.eventsAppended.inc({ type: e.type });
    return result;
  }

  /**
   * One append is one transaction: an auto-committed single statement (unless the test hook is set).
   * Never several appends per transaction: the transaction id is taken by its first write, so a second
   * append that waited for another writer's stream lock would sort before that writer's earlier revisions
   * in the (transaction id, position) order. (Tried as "group commit"; the contract's contention test
   * caught exactly that.)
   */
  private async appendAlone(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.roundTrips.requests++;
        const hook = this.options.beforeCommit;
        const result = hook
          ? await this.db.transaction().execute(async (trx) => {
              const r = await this.appendStatement(trx, streamId, events, expected);
              if (r.written) await hook(trx);
              return r;
            })
          : await this.appendStatement(this.db, streamId, events, expected);
        if (result.written) this.signalAppended();
        return result;
      } catch (error) {
        // A concurrent append of the same event ids committed between our snapshot and our insert:
        // run again on a fresh snapshot, which then sees them (idempotent success or a clear conflict).
        if (isUniqueViolation(error, 'events_event_id_key') && attempt < 3) continue;
        if (isUniqueViolation(error, 'events_event_id_key')) throw new DuplicateEventIdError(streamId, events.map((e) => e.eventId));
        throw error;
      }
    }
  }

  /**
   * Wakes subscribers after a commit: those in this process at once, other processes by NOTIFY. The NOTIFY
   * runs after the append's commit, never inside it: PostgreSQL serialises the commits of notifying
   * transactions (a database-wide lock held across the WAL flush), so concurrent appends could no longer
   * share WAL flushes. At most one NOTIFY per NOTIFY_DELAY_MS, covering every append made meanwhile, with
   * asynchronous commit: a lost wake-up costs only a poll interval.
   */
  private signalAppended(): void {
    for (const wake of this.localWakers) wake();
    if (this.notifyPending) return;
    this.notifyPending = true;
    setTimeout(() => void this.sendNotify(), NOTIFY_DELAY_MS).unref();
  }

  private async sendNotify(): Promise<void> {
    this.notifyPending = false;
    this.roundTrips.requests++;
    try {
      if (this.database.backend === 'postgres') {
        await sql.raw(`set local synchronous_commit = off; select pg_notify('${CHANNEL}', '')`).execute(this.db);
      } else {
        await sql`select pg_notify(${CHANNEL}, '')`.execute(this.db);
      }
    } catch {
      // Subscribers poll as well (and the database may be closing).
    }
  }

  /**
   * One statement (one round trip, its own transaction unless `db` is one): idempotency check, stream row
   * lock + expected-revision check + revision bump (INSERT .. ON CONFLICT DO UPDATE .. WHERE) and the event
   * insert. The stream row lock serialises writers of one stream; after waiting for it PostgreSQL
   * re-reads the row, so the revision used is the committed one.
   */
  private async appendStatement(
    db: Kysely<Tables>,
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const n = events.length;
    const input = JSON.stringify(
      events.map((e, i) => ({ i, event_id: e.eventId, type: e.type, data: e.data, metadata: e.metadata, partition_key: eventPartitionKey(e.data) })),
    );
    const mayCreate = expected === 'any' || expected === 'no_stream' || expected === -1;
    const check =
      expected === 'any'
        ? sql`true`
        : expected === 'no_stream' || expected === -1
          ? sql`s.revision < 0`
          : expected === 'stream_exists'
            ? sql`s.revision >= 0`
            : sql`s.revision = ${expected}`;
    const { rows } = await sql<{
      previous: number | null;
      current: number | null;
      last_position: number | null;
      last_transaction: number | null;
      existing: EventRow[] | null;
    }>`
      with input as (
        select * from jsonb_to_recordset(${input}::jsonb) as x(i int, event_id uuid, type text, data jsonb, metadata jsonb, partition_key int)
      ),
      existing as (
        select ${COLUMNS} from events where event_id in (select event_id from input)
      ),
      stream as (
        insert into streams as s (stream_id, revision)
        select ${streamId}, ${n - 1}::bigint
        where not exists (select 1 from existing)
          and (${mayCreate}::boolean or exists (select 1 from streams where stream_id = ${streamId}))
        on conflict (stream_id) do update set revision = greatest(s.revision, -1) + ${n} where ${check}
        returning revision - ${n} as previous
      ),
      inserted as (
        insert into events (stream_id, stream_revision, event_id, type, data, metadata, partition_key)
        select ${streamId}, stream.previous + 1 + input.i, input.event_id, input.type, input.data, input.metadata, input.partition_key
        from input cross join stream
        order by input.i
        returning global_position, transaction_id::text::bigint as transaction_id
      )
      select
        (select previous from stream) as previous,
        (select revision from streams where stream_id = ${streamId}) as current,
        (select max(global_position) from inserted) as last_position,
        (select max(transaction_id) from inserted) as last_transaction,
        (select json_agg(existing order by global_position) from existing) as existing`.execute(db);
    const row = rows[0]!;
    if (row.existing && row.existing.length > 0) {
      // A retry of the very same append is a success that writes nothing; anything else is a conflict.
      const sameAppend = row.existing.length === n && row.existing.every((r) => r.stream_id === streamId);
      if (!sameAppend) throw new DuplicateEventIdError(streamId, row.existing.map((r) => r.event_id));
      const last = toRecorded(row.existing[row.existing.length - 1]!);
      return { nextExpectedRevision: last.revision, position: last.position, written: false };
    }
    if (row.previous === null || row.last_position === null) {
      const current = row.current === null ? -1 : Number(row.current);
      throw new WrongExpectedRevisionError(streamId, expected, current);
    }
    return {
      nextExpectedRevision: Number(row.previous) + n,
      position: { commit: Number(row.last_transaction), prepare: Number(row.last_position) },
      written: true,
    };
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
    return (await this.readPage(options, false)).events;
  }

  /**
   * A page of the global order after `after`. With `withHead`, the same statement (one snapshot) also returns the
   * newest event a subscriber may read: when the page comes back short, nothing else matching the filter lies
   * between its last event and that head, so a filtered subscriber (one partition) may move its checkpoint there.
   */
  private async readPage(options: ReadAllOptions & { until?: Position }, withHead: boolean): Promise<{ events: RecordedEvent[]; head?: { position: Position; createdAt: string } }> {
    const { after, until, limit = this.options.pageSize ?? 1000, filter } = options;
    const afterClause =
      after && after.commit >= 0
        ? sql`and (transaction_id, global_position) > (${String(after.commit)}::xid8, ${after.prepare}::bigint)`
        : sql``;
    const snapshot =
      this.options.applySnapshotRule === false
        ? sql``
        : sql`and transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;
    const bound = until ? sql`and (transaction_id, global_position) <= (${String(until.commit)}::xid8, ${until.prepare}::bigint)` : sql``;
    const visible = sql`${snapshot} ${bound}`;
    const page = sql`
      select ${COLUMNS} from events
      where true ${afterClause} ${visible} ${filterClause(filter)}
      -- Qualified: the bare name would mean the select list's bigint alias, which no index can order by
      -- (every page would then sort all remaining rows).
      order by events.transaction_id, events.global_position
      limit ${limit}`;
    if (!withHead) {
      const { rows } = await sql<EventRow>`${page}`.execute(this.db);
      return { events: rows.map(toRecorded) };
    }
    const { rows } = await sql<EventRow & { head_commit: number; head_prepare: number; head_created_at: Date }>`
      with head as (
        select transaction_id::text::bigint as head_commit, global_position as head_prepare, created_at as head_created_at from events
        where true ${visible} order by transaction_id desc, global_position desc limit 1
      )
      select head.*, p.* from head left join lateral (${page}) p on true`.execute(this.db);
    const first = rows[0];
    if (!first) return { events: [] };
    const events = first.event_id === null ? [] : rows.map(toRecorded);
    return { events, head: { position: { commit: Number(first.head_commit), prepare: Number(first.head_prepare) }, createdAt: new Date(first.head_created_at).toISOString() } };
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return new CatchUpSubscription(
      {
        // Only a filtered subscriber needs the head: an unfiltered page's last event is the head when short.
        readPage: (o) => this.readPage(o, o.filter !== undefined),
        // Commits before the start have transaction ids below the start snapshot's xmax; they are all
        // readable once the oldest running transaction is at or past it.
        startMark: async () => {
          const { rows } = await sql<{ mark: string }>`select pg_snapshot_xmax(pg_current_snapshot())::text as mark`.execute(this.db);
          return rows[0]!.mark;
        },
        seesAllBefore: async (mark) => {
          if (this.options.applySnapshotRule === false) return true;
          const { rows } = await sql<{ ok: boolean }>`
            select pg_snapshot_xmin(pg_current_snapshot()) >= ${mark}::xid8 as ok`.execute(this.db);
          return rows[0]!.ok === true;
        },
        onAppended: async (wake) => {
          this.localWakers.add(wake);
          const unlisten = await this.database.listen(CHANNEL, wake);
          return async () => {
            this.localWakers.delete(wake);
            await unlisten();
          };
        },
      },
      options,
      // PGlite lives in this process: every append wakes subscribers directly, so polling is only a safety net
      // (and each poll would run on the event loop). PostgreSQL also needs polling for the snapshot rule.
      this.options.pollIntervalMs ?? (this.database.backend === 'pglite' ? 2000 : 250),
      this.options.resubscribe,
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

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string; message?: string } | undefined;
  return e?.code === '23505' && (e.constraint === constraint || (e.message ?? '').includes(constraint));
}

function filterClause(filter: EventFilter | undefined): RawBuilder<unknown> {
  if (!filter) return sql``;
  const parts: RawBuilder<unknown>[] = [];
  if (filter.streamPrefixes?.length) {
    parts.push(sql`and stream_id like any(${filter.streamPrefixes.map((p) => `${p.replace(/[\\%_]/g, '\\$&')}%`)}::text[])`);
  }
  if (filter.eventTypes?.length) parts.push(sql`and type = any(${[...filter.eventTypes]}::text[])`);
  // Keyless events (promotions, analyses) reach every partition.
  const slot = filter.partition;
  if (slot && slot.count > 1) parts.push(sql`and (partition_key is null or partition_key % ${slot.count}::int = ${slot.index}::int)`);
  return sql.join(parts, sql` `);
}
