import type { PartitionSlot } from '../events/partition-key.js';

/**
 * The event store port. Adapters: `postgres` (PostgreSQL and PGlite) and `eventstoredb`.
 * Every adapter passes the same contract suite (test/event-store/event-store.contract.ts).
 */

/** Where an event sits in the global log. Ordered by (commit, prepare), as in EventStoreDB. */
export interface Position {
  commit: number;
  prepare: number;
}

export const START: Position = Object.freeze({ commit: -1, prepare: -1 });

export function comparePositions(a: Position, b: Position): number {
  return a.commit !== b.commit ? a.commit - b.commit : a.prepare - b.prepare;
}

/** `any`, `no_stream` (must not exist), `stream_exists`, or the exact revision of the stream's last event. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface EventMetadata {
  correlationId: string;
  causationId?: string;
  actor?: string;
  schemaVersion: number;
  occurredAt: string;
  modelVersion?: string;
  [key: string]: unknown;
}

export interface NewEvent<Type extends string = string, Data = unknown> {
  eventId: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  streamId: string;
  revision: number;
  position: Position;
  createdAt: string;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append (pass it as the next expected revision). */
  nextExpectedRevision: number;
  /** Position of the last event of this append. */
  position: Position;
  /** False when every event id was already stored: an idempotent retry that wrote nothing. */
  written: boolean;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive start revision (from the end when backwards). */
  fromRevision?: number;
  limit?: number;
}

export interface EventFilter {
  streamPrefixes?: readonly string[];
  eventTypes?: readonly string[];
  /**
   * One partition of P (issue #19): only events whose partition key (src/events/partition-key.ts) falls in it,
   * plus every event without a key. The PostgreSQL adapter filters on the stored `partition_key` column.
   */
  partition?: PartitionSlot;
}

export interface ReadAllOptions {
  /** Exclusive: events after this position. */
  after?: Position;
  limit?: number;
  filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint; omitted = from the start of the log. */
  after?: Position;
  filter?: EventFilter;
  /** Events per handler call. */
  batchSize?: number;
  /**
   * Inclusive: read nothing past this position; the subscriber idles there (used by `projections repartition` to
   * bring every partition to one position). Both adapters honour it (EventStoreDB in the adapter, which drops what
   * the server sends past it).
   */
  until?: Position;
  /** Called with each batch in global order; the subscription waits for it before reading on. */
  handler: (events: RecordedEvent[]) => Promise<void>;
  /** Called once, the first time the subscriber has read everything committed so far. */
  onCaughtUp?: () => void;
  /**
   * Optional: a position up to which the store has checked every event and found nothing else matching the
   * filter (EventStoreDB's server-side checkpointReached; the PostgreSQL adapter's filtered read that reached the
   * head). Never ahead of an event not yet handled. `createdAt` is that position's event time where the store
   * knows it (a partition's log clock when its own events are quiet). The subscription resumes after it.
   */
  onCheckpoint?: (position: Position, createdAt?: string) => void | Promise<void>;
  /** Called when the subscription stops because the handler or the store failed. */
  onError?: (error: unknown) => void;
}

export interface Subscription {
  /** Resolves once the subscriber has read everything committed when it started (the caught-up signal). */
  readonly caughtUp: Promise<void>;
  /** The position of the last event handed to the handler. */
  readonly position: Position | undefined;
  /** Stops reading; resolves once the batch in hand is finished. */
  stop(): Promise<void>;
}

export interface EventStore {
  readonly adapter: string;
  append(streamId: string, events: readonly NewEvent[], expectedRevision?: ExpectedRevision): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options: SubscribeOptions): Subscription;
  /** Position of the newest event a subscriber may read now (undefined when the log is empty). */
  headPosition(): Promise<Position | undefined>;
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${actual < 0 ? 'no stream' : actual}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export class DuplicateEventIdError extends Error {
  constructor(
    readonly streamId: string,
    readonly eventIds: string[],
  ) {
    super(`stream ${streamId}: event ids already stored elsewhere or only in part: ${eventIds.join(', ')}`);
    this.name = 'DuplicateEventIdError';
  }
}
