import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type Filter,
  type Position as EsdbPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { metrics } from '../../observability/metrics.js';
import {
  comparePositions,
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventFilter,
  type EventMetadata,
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

type EsdbRecorded = NonNullable<ResolvedEvent['event']>;

/** "Unknown" (only from servers without positions on stream reads): as a checkpoint it means the start. */
const START_POSITION: Position = Object.freeze({ commit: -1, prepare: -1 });

/** Commit/prepare are byte offsets in the transaction log: far below 2^53 for any realistic database. */
const toPosition = (p: EsdbPosition): Position => ({ commit: Number(p.commit), prepare: Number(p.prepare) });
const fromPosition = (p: Position): EsdbPosition => ({ commit: BigInt(p.commit), prepare: BigInt(p.prepare) });

export function toExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream' || expected === -1) return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return BigInt(expected);
}

/** Older servers answer stream reads without a log position (or with 2^64-1): treat both as unknown. */
const UNKNOWN = 2n ** 63n;
const knownPosition = (p: EsdbPosition | undefined): EsdbPosition | undefined => (p && p.commit < UNKNOWN ? p : undefined);

function toRecorded(e: EsdbRecorded, position?: EsdbPosition): RecordedEvent {
  const pos = knownPosition(position ?? e.position);
  return {
    eventId: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: Number(e.revision),
    position: pos ? toPosition(pos) : { commit: -1, prepare: -1 },
    data: e.isJson ? e.data : Buffer.from(e.data as Uint8Array).toString('base64'),
    metadata: (e.metadata ?? {}) as EventMetadata,
    createdAt: e.created.toISOString(),
  };
}

const isSystem = (e: Pick<EsdbRecorded, 'type' | 'streamId'>) => e.type.startsWith('$') || e.streamId.startsWith('$');

export function matches(e: Pick<EsdbRecorded, 'type' | 'streamId'>, filter: EventFilter | undefined): boolean {
  if (isSystem(e)) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p))) return false;
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(e.type)) return false;
  return true;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The server-side filter for a subscription. EventStoreDB filters on stream name OR event type, not both:
 * stream prefixes go to the server (they select categories, the usual case), event types are then checked
 * here; event types alone go to the server as an exact-match regex. No filter still excludes system events.
 */
export function serverFilter(filter: EventFilter | undefined, checkpointInterval: number): Filter {
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamPrefixes], checkpointInterval });
  if (filter?.eventTypes?.length) {
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$`, checkpointInterval });
  }
  return excludeSystemEvents({ checkpointInterval });
}

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const item of read) out.push(item);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
  return out;
}

/**
 * The event store port on EventStoreDB / KurrentDB through `@eventstore/db-client` (gRPC).
 *
 * Positions are the server's (commit, prepare) log positions; revisions are the server's stream revisions
 * (bigint on the wire, numbers here). Idempotency: EventStoreDB itself de-duplicates an append whose event
 * ids match the events right after the expected revision (guaranteed for an exact expected revision and
 * no_stream), and for `any` only within its in-memory idempotency cache. On top of that this adapter reads
 * one event before appending (see alreadyAppended): a repeated append answers `written: false` without
 * writing; one that overlaps it is a DuplicateEventIdError.
 * See docs/event-store.md for what is and is not guaranteed.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly adapter = 'eventstoredb';

  private constructor(private readonly client: EventStoreDBClient) {}

  static async connect(url: string): Promise<EventStoreDbEventStore> {
    const client = EventStoreDBClient.connectionString(url);
    const store = new EventStoreDbEventStore(client);
    // Fail at start-up with the server's message rather than on the first request.
    await store.headPosition();
    return store;
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const stop = metrics.eventStoreAppendDuration.startTimer({ adapter: this.adapter });
    try {
      const already = await this.alreadyAppended(streamId, events, expected);
      if (already) return already;
      const result = await this.client.appendToStream(
        streamId,
        events.map((e) => jsonEvent({ id: e.eventId, type: e.type, data: e.data as Record<string, unknown>, metadata: e.metadata })),
        { expectedRevision: toExpected(expected) },
      );
      for (const e of events) metrics.eventsAppended.inc({ type: e.type });
      // The port promises the position of the append's last event (read-your-writes waits on it); what the
      // server answers for a multi-event append is the write's, so read the last event back when possible.
      const position = (await this.positionOf(streamId, result.nextExpectedRevision)) ?? (result.position ? toPosition(result.position) : START_POSITION);
      return {
        nextExpectedRevision: Number(result.nextExpectedRevision),
        position,
        // No position means the server recognised the append as a duplicate (its own idempotency check).
        written: result.position !== undefined,
      };
    } catch (error) {
      if (error instanceof MaxAppendSizeExceededError) {
        // All or nothing: splitting would break the atomicity callers rely on. Raise the server's limit
        // (KURRENTDB_MAX_APPEND_SIZE / EVENTSTORE_MAX_APPEND_SIZE, default 1 MiB) instead.
        throw new Error(
          `eventstoredb: append of ${events.length} events to ${streamId} exceeds the server's max append size (${error.maxAppendSize} bytes); raise MAX_APPEND_SIZE`,
          { cause: error },
        );
      }
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion === NO_STREAM || error.actualVersion === undefined ? -1 : Number(error.actualVersion);
        throw new WrongExpectedRevisionError(streamId, expected, actual);
      }
      throw error;
    } finally {
      stop();
    }
  }

  /**
   * Was this append made already? One single-event read, whatever the append's size (events can be large):
   * with an exact expected revision (or no_stream) the event right after it must be our first, and then the
   * server's own check guarantees the rest; with any / stream_exists the stream's last event must be our
   * last. An id of ours in that place but not in the right position means an overlapping append.
   */
  private async alreadyAppended(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult | undefined> {
    const n = events.length;
    const ours = new Map(events.map((e, i) => [e.eventId, i]));
    const exact = typeof expected === 'number' ? expected : expected === 'no_stream' ? -1 : undefined;
    const [probe] = await collect(
      exact !== undefined
        ? this.client.readStream(streamId, { fromRevision: BigInt(exact + 1), maxCount: 1, direction: FORWARDS })
        : this.client.readStream(streamId, { fromRevision: END, maxCount: 1, direction: BACKWARDS }),
    );
    const found = probe?.event;
    if (!found || !ours.has(found.id)) return undefined;
    const wanted = exact !== undefined ? 0 : n - 1;
    if (ours.get(found.id) !== wanted) throw new DuplicateEventIdError(streamId, [found.id]);
    const lastRevision = exact !== undefined ? BigInt(exact + n) : found.revision;
    const [last] = exact !== undefined ? await collect(this.client.readStream(streamId, { fromRevision: lastRevision, maxCount: 1 })) : [probe];
    if (!last?.event || last.event.id !== events[n - 1]!.eventId) throw new DuplicateEventIdError(streamId, [found.id]);
    const position = knownPosition(last.event.position);
    return { nextExpectedRevision: Number(lastRevision), position: position ? toPosition(position) : START_POSITION, written: false };
  }

  /**
   * The log position of one stream event, when the server includes it in stream reads (current servers
   * do; older ones answer stream reads from the index without it).
   */
  private async positionOf(streamId: string, revision: bigint): Promise<Position | undefined> {
    const [resolved] = await collect(this.client.readStream(streamId, { fromRevision: revision, maxCount: 1 }));
    const position = knownPosition(resolved?.event?.position);
    return position ? toPosition(position) : undefined;
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
   * Pages through $all from `after` (the server's fromPosition is inclusive, ours exclusive) and filters
   * here: the client's readAll takes no filter, and system events are never part of the port's log.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { after, limit = 1000, filter } = options;
    const out: RecordedEvent[] = [];
    const pageSize = Math.max(limit, 500);
    let cursor: Position | undefined = after && after.commit >= 0 ? after : undefined;
    for (;;) {
      const page = await collect<AllStreamResolvedEvent>(
        this.client.readAll({ fromPosition: cursor ? fromPosition(cursor) : START, direction: FORWARDS, maxCount: pageSize }),
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

  subscribeToAll(options: SubscribeOptions): Subscription {
    return new EventStoreDbSubscription(this.client, options, () => this.headPosition());
  }

  async headPosition(): Promise<Position | undefined> {
    const [last] = await collect<AllStreamResolvedEvent>(this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }));
    return last?.event ? toPosition(last.event.position) : undefined;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}

/**
 * A catch-up subscription on $all: the server streams history then live events, and says `caughtUp` when
 * it switches to live. Events are handed to the handler in batches, one batch at a time (the stream is
 * paused while the handler runs), so a slow handler back-pressures the server.
 * Caught-up here means "the handler has finished everything the server sent before its caughtUp", which is
 * what projections need. The server also reports checkpoints (checkpointReached on the filtered
 * subscription): positions up to which nothing else matches. They go to `onCheckpoint` (a consumer may
 * store one so a resumed filtered subscription does not rescan what it skipped) and give the caught-up
 * signal on servers older than 23.10, which never send caughtUp.
 */
class EventStoreDbSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private current: Position | undefined;
  private readonly subscription: AllStreamSubscription;
  private buffer: RecordedEvent[] = [];
  private handling: Promise<void> | undefined;
  private serverCaughtUp = false;
  private isCaughtUp = false;
  private stopped = false;
  private head: Position | undefined | null = null;

  constructor(
    client: EventStoreDBClient,
    private readonly options: SubscribeOptions,
    headPosition: () => Promise<Position | undefined>,
  ) {
    this.current = options.after && options.after.commit >= 0 ? options.after : undefined;
    this.caughtUp = new Promise((resolve) => (this.resolveCaughtUp = resolve));
    const filter = serverFilter(options.filter, 1);
    filter.checkpointReached = (_sub, position) => this.onCheckpoint(toPosition(position));
    this.subscription = client.subscribeToAll({ fromPosition: this.current ? fromPosition(this.current) : START, filter });
    this.subscription.on('data', (resolved: AllStreamResolvedEvent) => {
      const e = resolved.event;
      if (!e || !matches(e, options.filter)) return;
      this.buffer.push(toRecorded(e));
      this.schedule();
    });
    this.subscription.on('caughtUp', () => {
      this.serverCaughtUp = true;
      this.schedule();
    });
    this.subscription.on('error', (error) => this.fail(error));
    // Fallback for servers that never send caughtUp: reaching the head seen at start.
    headPosition().then(
      (head) => {
        this.head = head;
        this.schedule();
      },
      (error) => this.fail(error),
    );
  }

  get position(): Position | undefined {
    return this.current;
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      await this.subscription.unsubscribe().catch(() => undefined);
    }
    while (this.handling) await this.handling;
    this.resolveCaughtUp();
  }

  private onCheckpoint(position: Position): void {
    // Only when nothing of ours is pending before it, or a resume could skip a buffered event.
    if (this.buffer.length === 0 && !this.handling && !this.stopped) this.options.onCheckpoint?.(position);
    if (this.head !== null && (this.head === undefined || comparePositions(position, this.head) >= 0)) this.serverCaughtUp = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.handling || this.stopped) return;
    this.handling = this.drain().finally(() => {
      this.handling = undefined;
      // An event may have arrived between the end of the drain loop and here.
      if (this.buffer.length > 0 || (this.serverCaughtUp && !this.isCaughtUp)) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    // Let the events already in the client's buffer arrive so batches fill up.
    await new Promise((r) => setImmediate(r));
    while (this.buffer.length > 0 && !this.stopped) {
      this.subscription.pause();
      const batch = this.buffer.splice(0, batchSize);
      try {
        await this.options.handler(batch);
      } catch (error) {
        this.fail(error);
        return;
      }
      this.current = batch[batch.length - 1]!.position;
      if (this.buffer.length < batchSize) {
        this.subscription.resume();
        await new Promise((r) => setImmediate(r));
      }
    }
    if (this.stopped) return;
    this.subscription.resume();
    const reachedHead =
      this.head !== null && (this.head === undefined || (this.current !== undefined && comparePositions(this.current, this.head) >= 0));
    if (!this.isCaughtUp && this.buffer.length === 0 && this.subscription.readableLength === 0 && (this.serverCaughtUp || reachedHead)) {
      this.isCaughtUp = true;
      this.resolveCaughtUp();
      this.options.onCaughtUp?.();
    }
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.subscription.unsubscribe().catch(() => undefined);
    this.resolveCaughtUp();
    if (this.options.onError) this.options.onError(error);
    else queueMicrotask(() => {
      throw error;
    });
  }
}
