import type { Kysely } from 'kysely';
import type { Tables } from '../database/tables.js';
import type { RecordedEvent } from '../event-store/event-store.js';
import type { PartitionSlot } from '../events/partition-key.js';

/** Where a projection writes: the live tables (schema `public`) or a shadow/scratch schema during a rebuild. */
export interface ProjectionContext {
  trx: Kysely<Tables>;
  schema: string;
  /** The partition this batch belongs to, when the projection runs partitioned; keyless events reach every partition. */
  slot?: PartitionSlot;
}

/**
 * A read model fed from the global log. `apply` runs inside the transaction that also stores the
 * projection's checkpoint, so each event's effect lands exactly once. It must be deterministic: a rebuild
 * from position 0 has to produce the same rows.
 */
export interface Projection {
  readonly name: string;
  /**
   * Runs as P partitions (issue #19): each sees only its partition's events (by system and equipment) plus keyless
   * ones, so `apply` must only touch rows of the events it is given, and commute with other partitions' writes.
   */
  readonly partitioned?: boolean;
  /** Tables this projection owns (created by migrations; copied for rebuilds). */
  readonly tables: readonly (keyof Tables & string)[];
  /** Receives every event in global order (already upcast); ignores the types it does not handle. */
  apply(ctx: ProjectionContext, events: readonly RecordedEvent[]): Promise<void>;
  /** Optional: runs after the batch's transaction committed on the live schema (cache invalidation, notifications). */
  afterCommit?(events: readonly RecordedEvent[]): void | Promise<void>;
}
