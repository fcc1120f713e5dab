import { randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import {
  BACKWARDS,
  END,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendResult,
  type AppendStreamState,
  type EventData,
  type Filter,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  type SubscribeToAllOptions,
} from '@kurrent/kurrentdb-client';
import type { EsdbClient } from './eventstoredb-client.js';

/**
 * An in-memory model of what an EventStoreDB/KurrentDB server answers, for the adapter's unit tests and the
 * round-trip benchmark (no server can run in CI). It follows the server's source (EventStore v24.10:
 * IndexWriter.CheckCommit, StorageWriterService, RequestManagerBase) where the adapter's decisions depend on
 * it, and answers through the client's real result shapes and error classes:
 * - idempotency: `any`/`stream_exists` look every id up in a bounded cache of recent writes (first id unknown:
 *   write; a later one unknown: "CorruptedIdempotency", answered as WrongExpectedVersion); an exact revision
 *   or `no_stream` below the stream's revision compares the events right after it (index, never forgotten);
 *   a duplicate is acknowledged with the original's revision and log position (AlreadyCommitted, ≥ 20.10);
 * - a fresh append answers with its last event's log position (commit = prepare, single-record commits);
 * - filtered reads of $all; catch-up subscriptions as a Transform stream (events, checkpoints and caughtUp go
 *   through one ordered pipe, as in the client), with or without caughtUp (servers before 23.10), with a
 *   checkpoint every `checkpointInterval` × 32 scanned events.
 * Never used by the service.
 */
interface Stored {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  created: Date;
  position: Position;
}

type Message = { event: Stored } | { checkpoint: Position } | { caughtUp: true };

const SEARCH_WINDOW = 32;

export class SimulatedEsdbServer {
  readonly log: Stored[] = [];
  private readonly streams = new Map<string, Stored[]>();
  /** The server's idempotency cache (event id → stream, number): bounded and lost on restart. */
  private readonly recent = new Map<string, { streamId: string; revision: bigint }>();
  private readonly subscriptions = new Set<SimulatedSubscription>();
  private nextPosition = 1000n;
  /** Servers before 23.10 never send caughtUp. */
  sendsCaughtUp = true;
  /** Requests received, by kind. */
  readonly requests = { append: 0, readStream: 0, readAll: 0, subscribe: 0 };
  /** The subscription opened last (tests reach into its stream state). */
  lastSubscription: SimulatedSubscription | undefined;
  /** Runs before each append is decided (tests interleave other writers there). */
  beforeAppend: (() => Promise<void>) | undefined;

  client(): EsdbClient {
    return {
      appendToStream: (stream, events, options) => this.append(stream, events, options.streamState),
      readStream: (stream, options) => this.readStream(stream, options),
      readAll: (options) => this.readAll(options),
      subscribeToAll: (options) => this.subscribe(options),
      dispose: async () => undefined,
    };
  }

  /** The server restarts (or the cache evicts): idempotency for `any` now rests on the index alone. */
  forgetRecentWrites(): void {
    this.recent.clear();
  }

  /** Every open subscription fails as a dropped gRPC call does (server restart, leader change). */
  dropSubscriptions(error: Error): void {
    for (const s of [...this.subscriptions]) {
      this.subscriptions.delete(s);
      s.emit('error', error);
    }
  }

  get openSubscriptions(): number {
    return this.subscriptions.size;
  }

  /** Writes directly, as another client would (no idempotency checks). */
  write(streamId: string, events: { id: string; type?: string; data?: unknown; metadata?: unknown }[]): Stored[] {
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    const written: Stored[] = [];
    for (const e of events) {
      this.nextPosition += 100n;
      const stored: Stored = {
        streamId,
        id: e.id.toLowerCase(),
        revision: BigInt(stream.length),
        type: e.type ?? 'Simulated',
        data: e.data ?? {},
        metadata: e.metadata ?? {},
        created: new Date(),
        position: { commit: this.nextPosition, prepare: this.nextPosition },
      };
      stream.push(stored);
      this.log.push(stored);
      this.recent.set(stored.id, { streamId, revision: stored.revision });
      written.push(stored);
    }
    for (const s of this.subscriptions) if (s.live) for (const e of written) s.offer(e);
    return written;
  }

  private async append(streamId: string, events: EventData[], expected: AppendStreamState): Promise<AppendResult> {
    this.requests.append++;
    await this.beforeAppend?.();
    const stream = this.streams.get(streamId) ?? [];
    const current = BigInt(stream.length - 1);
    const ids = events.map((e) => e.id.toLowerCase());
    const wrong = () =>
      new WrongExpectedVersionError(undefined, { streamName: streamId, current: current < 0n ? 'no_stream' : current, expected });
    const duplicate = (last: bigint): AppendResult => ({
      success: true,
      nextExpectedRevision: last,
      position: stream[Number(last)]?.position,
    });
    if (stream.length === 0) {
      if (expected === 'stream_exists' || typeof expected === 'bigint') throw wrong();
    } else if (expected === 'any' || expected === 'stream_exists') {
      let last: bigint | undefined;
      for (const [i, id] of ids.entries()) {
        const known = this.recent.get(id);
        if (!known || known.streamId !== streamId) {
          if (i === 0) break;
          throw wrong(); // CorruptedIdempotency
        }
        last = known.revision;
      }
      if (last !== undefined) return duplicate(last);
    } else {
      const from = expected === 'no_stream' ? -1n : expected;
      if (from > current) throw wrong();
      if (from < current) {
        for (const [i, id] of ids.entries()) {
          if (stream[Number(from) + 1 + i]?.id !== id) throw wrong(); // WrongExpectedVersion or CorruptedIdempotency
        }
        return duplicate(from + BigInt(ids.length));
      }
    }
    const written = this.write(
      streamId,
      events.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })),
    );
    const last = written[written.length - 1]!;
    return { success: true, nextExpectedRevision: last.revision, position: last.position };
  }

  private async *readStream(streamId: string, options: ReadStreamOptions): AsyncIterable<ResolvedEvent> {
    this.requests.readStream++;
    const stream = this.streams.get(streamId);
    if (!stream) throw new StreamNotFoundError(undefined, streamId);
    const backwards = options.direction === BACKWARDS;
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const fromRevision = options.fromRevision;
    let i = fromRevision === undefined || fromRevision === START ? 0 : fromRevision === END ? stream.length - 1 : Number(fromRevision);
    if (backwards && fromRevision === undefined) i = stream.length - 1;
    if (backwards) i = Math.min(i, stream.length - 1);
    for (let n = 0; n < max && i >= 0 && i < stream.length; n++, i += backwards ? -1 : 1) {
      yield { event: recorded(stream[i]!) } as ResolvedEvent;
    }
  }

  private async *readAll(options: ReadAllOptions): AsyncIterable<AllStreamResolvedEvent> {
    this.requests.readAll++;
    const backwards = options.direction === BACKWARDS;
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const from = options.fromPosition ?? (backwards ? END : START);
    const candidates = this.log.filter((e) => passes(e, options.filter));
    const ordered = backwards ? [...candidates].reverse() : candidates;
    let n = 0;
    for (const e of ordered) {
      if (from !== START && from !== END && (backwards ? comparePosition(e.position, from) > 0 : comparePosition(e.position, from) < 0)) continue;
      if (n++ >= max) return;
      yield { event: recorded(e) } as AllStreamResolvedEvent;
    }
  }

  private subscribe(options: SubscribeToAllOptions): AllStreamSubscription {
    this.requests.subscribe++;
    const sub = new SimulatedSubscription(options.filter, () => this.subscriptions.delete(sub));
    this.subscriptions.add(sub);
    this.lastSubscription = sub;
    const from = options.fromPosition ?? START;
    // History, then live: the server reads in windows, sending a checkpoint per window of scanned events.
    setImmediate(() => {
      for (const e of this.log) {
        if (from === END || (from !== START && comparePosition(e.position, from) <= 0)) continue;
        sub.offer(e);
      }
      if (this.sendsCaughtUp) sub.send({ caughtUp: true });
      sub.live = true;
    });
    return sub as unknown as AllStreamSubscription;
  }
}

export class SimulatedSubscription extends Transform {
  live = false;
  private scanned = 0;

  constructor(
    private readonly serverFilter: Filter | undefined,
    private readonly onClose: () => void,
  ) {
    super({ objectMode: true });
  }

  /** The server scans one event: delivered when it passes the filter, a checkpoint every window. */
  offer(e: Stored): void {
    this.scanned++;
    if (passes(e, this.serverFilter)) this.send({ event: e });
    const interval = (this.serverFilter?.checkpointInterval ?? 1) * SEARCH_WINDOW;
    if (this.serverFilter && this.scanned % interval === 0) this.send({ checkpoint: e.position });
  }

  send(message: Message): void {
    if (!this.destroyed) this.write(message);
  }

  // As the client's Subscription: caughtUp and checkpoints are handled when the message is transformed,
  // events are pushed to the readable side (where they may wait while the consumer is paused).
  override async _transform(message: Message, _encoding: BufferEncoding, next: (error?: Error | null, data?: unknown) => void) {
    if ('caughtUp' in message) this.emit('caughtUp', {});
    if ('checkpoint' in message) await this.serverFilter?.checkpointReached?.(this as unknown as AllStreamSubscription, message.checkpoint);
    if ('event' in message) return next(null, { event: recorded(message.event) });
    next();
  }

  async unsubscribe(): Promise<void> {
    this.onClose();
    this.destroy();
  }
}

function recorded(e: Stored) {
  return { ...e, isJson: true as const, id: e.id };
}

function comparePosition(a: Position, b: Position): number {
  return a.commit === b.commit ? Number(a.prepare - b.prepare) : Number(a.commit - b.commit);
}

function passes(e: Stored, filter: Filter | undefined): boolean {
  if (!filter) return true;
  const subject = filter.filterOn === 'streamName' ? e.streamId : e.type;
  if ('prefixes' in filter) return filter.prefixes.some((p) => subject.startsWith(p));
  return new RegExp(filter.regex).test(subject);
}

export const newEventId = (): string => randomUUID();
