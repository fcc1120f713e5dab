import {
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  WrongExpectedVersionError,
  jsonEvent,
  type AllStreamResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { metrics } from '../../observability/metrics.js';
import {
  comparePositions,
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
import { DEFAULT_RESUBSCRIBE, type ResubscribeOptions } from '../resubscribe.js';
import { RoundTrips } from '../round-trips.js';
import { realClient, type EsdbClient } from './eventstoredb-client.js';
import {
  collect,
  filtersOnClient,
  fromPosition,
  knownPosition,
  matches,
  sameId,
  serverFilter,
  START_POSITION,
  storedMetadata,
  toExpected,
  toPosition,
  toRecorded,
  type EsdbRecorded,
} from './eventstoredb-mappings.js';
import { EventStoreDbSubscription } from './eventstoredb-subscription.js';

export interface EventStoreDbOptions {
  resubscribe?: ResubscribeOptions;
}

/**
 * The event store port on EventStoreDB / KurrentDB through `@kurrent/kurrentdb-client` (gRPC).
 *
 * Positions are the server's (commit, prepare) log positions; revisions are the server's stream revisions
 * (bigint on the wire, numbers here). An append is two requests: a read of the stream's last event (the
 * pre-check, and the revision to compare the answer with), then the append, whose answer carries the
 * position of its last event. See docs/event-store.md for what is and is not guaranteed, and
 * eventstoredb-decisions.spec.ts for each decision against the server's answers.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly adapter = 'eventstoredb';
  readonly roundTrips = new RoundTrips();
  /** Appends in flight, by stream and ids: an identical append joins the first instead of racing it. */
  private readonly inFlight = new Map<string, Promise<AppendResult>>();

  constructor(
    private readonly client: EsdbClient,
    private readonly options: EventStoreDbOptions = {},
  ) {}

  static async connect(url: string, options: EventStoreDbOptions = {}): Promise<EventStoreDbEventStore> {
    // esdb:// still works but is deprecated by the client (a warning per connection): same string, new scheme.
    const connection = url.replace(/^esdb(\+discover)?:\/\//, 'kurrentdb$1://');
    const store = new EventStoreDbEventStore(realClient(KurrentDBClient.connectionString(connection)), options);
    // Fail at start-up with the server's message rather than on the first request.
    await store.headPosition();
    return store;
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    this.roundTrips.appends++;
    const key = `${streamId}\n${events.map((e) => sameId(e.eventId)).join(',')}`;
    const earlier = this.inFlight.get(key);
    if (earlier) {
      // Two identical appends from this process: the server could not tell the second from the first's
      // answer (it acknowledges a duplicate with the original's position), so the second waits for the first.
      const first = await earlier.catch(() => undefined);
      if (first) return { ...first, written: false };
    }
    const attempt = this.appendOnce(streamId, events, expected);
    this.inFlight.set(key, attempt);
    try {
      return await attempt;
    } finally {
      if (this.inFlight.get(key) === attempt) this.inFlight.delete(key);
    }
  }

  private async appendOnce(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const stop = metrics.eventStoreAppendDuration.startTimer({ adapter: this.adapter });
    const ids = events.map((e) => sameId(e.eventId));
    try {
      const tail = await this.lastEvent(streamId);
      if (tail && ids.includes(sameId(tail.id))) return await this.repeated(streamId, ids, tail);
      const before = tail ? tail.revision : -1n;
      this.roundTrips.requests++;
      const result = await this.client.appendToStream(
        streamId,
        events.map((e, i) => jsonEvent({ id: ids[i]!, type: e.type, data: e.data as Record<string, unknown>, metadata: storedMetadata(e.data, e.metadata) })),
        { streamState: toExpected(expected) },
      );
      // A fresh append always moves the stream past what the pre-check saw; an answer at or below it is the
      // server acknowledging a repeat of an earlier append (AlreadyCommitted, with that append's position).
      const written = result.nextExpectedRevision > before;
      const known = knownPosition(result.position);
      const position = known ? toPosition(known) : await this.positionOf(streamId, result.nextExpectedRevision);
      if (written) for (const e of events) metrics.eventsAppended.inc({ type: e.type });
      return { nextExpectedRevision: Number(result.nextExpectedRevision), position, written };
    } catch (error) {
      throw await this.mapAppendError(error, streamId, ids, expected, events.length);
    } finally {
      stop();
    }
  }

  /**
   * The stream ends in one of our ids: a repeat of this very append when every id matches the stream's
   * last events in order (nothing written, the original result), otherwise an overlap.
   */
  private async repeated(streamId: string, ids: string[], tail: EsdbRecorded): Promise<AppendResult> {
    const n = ids.length;
    const last = tail.revision;
    if (sameId(tail.id) !== ids[n - 1] || last < BigInt(n - 1)) throw new DuplicateEventIdError(streamId, [tail.id]);
    if (n > 1) {
      this.roundTrips.requests++;
      const earlier = await collect(this.client.readStream(streamId, { fromRevision: last - BigInt(n - 1), maxCount: n - 1, direction: FORWARDS }));
      const stored = earlier.map((r) => (r.event ? sameId(r.event.id) : ''));
      if (stored.length !== n - 1 || stored.some((id, i) => id !== ids[i])) {
        throw new DuplicateEventIdError(streamId, ids.filter((id) => stored.includes(id) || id === ids[n - 1]));
      }
    }
    const position = knownPosition(tail.position);
    return { nextExpectedRevision: Number(last), position: position ? toPosition(position) : START_POSITION, written: false };
  }

  private async mapAppendError(error: unknown, streamId: string, ids: string[], expected: ExpectedRevision, count: number): Promise<unknown> {
    if (error instanceof MaxAppendSizeExceededError) {
      // All or nothing: splitting would break the atomicity callers rely on. Raise the server's limit
      // (KURRENTDB_MAX_APPEND_SIZE / EVENTSTORE_MAX_APPEND_SIZE, default 1 MiB) instead.
      return new Error(
        `eventstoredb: append of ${count} events to ${streamId} exceeds the server's max append size (${error.maxAppendSize} bytes); raise MAX_APPEND_SIZE`,
        { cause: error },
      );
    }
    if (!(error instanceof WrongExpectedVersionError)) return error;
    const actual = error.actualState === NO_STREAM || error.actualState === undefined ? -1 : Number(error.actualState);
    // The server answers "some of these ids are stored, some not" (CorruptedIdempotency) as a wrong expected
    // version. With `any` that is the only way to get one; with `stream_exists` when the stream exists.
    if (expected === 'any' || (expected === 'stream_exists' && actual >= 0)) return new DuplicateEventIdError(streamId, ids);
    const from = expected === 'no_stream' ? -1 : typeof expected === 'number' ? expected : undefined;
    if (from !== undefined && actual > from) {
      // With an exact revision it checked the events right after it: our first id there means an overlap.
      const [next] = await collect(this.client.readStream(streamId, { fromRevision: BigInt(from + 1), maxCount: 1, direction: FORWARDS }));
      if (next?.event && sameId(next.event.id) === ids[0]) return new DuplicateEventIdError(streamId, ids);
    }
    return new WrongExpectedRevisionError(streamId, expected, actual);
  }

  private async lastEvent(streamId: string): Promise<EsdbRecorded | undefined> {
    this.roundTrips.requests++;
    const [last] = await collect(this.client.readStream(streamId, { fromRevision: END, maxCount: 1, direction: BACKWARDS }));
    return last?.event;
  }

  /** Only for answers without a position (a duplicate whose original the server could not read back). */
  private async positionOf(streamId: string, revision: bigint): Promise<Position> {
    this.roundTrips.requests++;
    const [resolved] = await collect(this.client.readStream(streamId, { fromRevision: revision, maxCount: 1 }));
    const position = knownPosition(resolved?.event?.position);
    return position ? toPosition(position) : START_POSITION;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    if (options.limit === 0) return [];
    const read = await collect(
      this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision === undefined ? (backwards ? END : START) : BigInt(options.fromRevision),
        maxCount: options.limit ?? Number.MAX_SAFE_INTEGER,
      }),
    );
    return read.flatMap((r) => (r.event ? [toRecorded(r.event)] : []));
  }

  /**
   * Pages through a server-filtered read of $all from `after` (the server's fromPosition is inclusive, ours
   * exclusive). The server applies one half of the filter (see serverFilter), this the other half.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { after, limit = 1000, filter } = options;
    const out: RecordedEvent[] = [];
    const onServer = serverFilter(filter, 1);
    // When the server checks only stream prefixes, or a partition is asked for, some of what it sends is dropped here.
    const pageSize = filtersOnClient(filter) ? Math.max(limit, 500) : limit;
    let cursor: Position | undefined = after && after.commit >= 0 ? after : undefined;
    for (;;) {
      const page = await collect<AllStreamResolvedEvent>(
        this.client.readAll({
          fromPosition: cursor ? fromPosition(cursor) : START,
          direction: FORWARDS,
          maxCount: pageSize + (cursor ? 1 : 0),
          filter: onServer,
        }),
      );
      let last: Position | undefined;
      for (const r of page) {
        const e = r.event;
        if (!e) continue;
        const position = toPosition(e.position);
        if (cursor && comparePositions(position, cursor) <= 0) continue;
        last = position;
        if (!matches(e, filter)) continue;
        out.push(toRecorded(e));
        if (out.length >= limit) return out;
      }
      if (page.length < pageSize || !last) return out;
      cursor = last;
    }
  }

  /**
   * The newest event matching the filter at or before now, found by reading $all backwards through the
   * server-side filter (after `after`, if given). Caught-up on servers that never send it (before 23.10).
   */
  async lastMatching(filter: EventFilter | undefined, after: Position | undefined): Promise<Position | undefined> {
    const onServer = serverFilter(filter, 1);
    let cursor: Position | undefined;
    for (;;) {
      const page = await collect<AllStreamResolvedEvent>(
        this.client.readAll({ fromPosition: cursor ? fromPosition(cursor) : END, direction: BACKWARDS, maxCount: 100, filter: onServer }),
      );
      let last: Position | undefined;
      for (const r of page) {
        if (!r.event) continue;
        const position = toPosition(r.event.position);
        if (after && comparePositions(position, after) <= 0) return undefined;
        if (cursor && comparePositions(position, cursor) >= 0) continue;
        last = position;
        if (matches(r.event, filter)) return position;
      }
      if (page.length < 100 || !last) return undefined;
      cursor = last;
    }
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return new EventStoreDbSubscription(this.client, options, this.options.resubscribe ?? DEFAULT_RESUBSCRIBE, () =>
      this.lastMatching(options.filter, options.after && options.after.commit >= 0 ? options.after : undefined),
    );
  }

  async headPosition(): Promise<Position | undefined> {
    const [last] = await collect<AllStreamResolvedEvent>(this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }));
    return last?.event ? toPosition(last.event.position) : undefined;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}
