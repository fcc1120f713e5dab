import type { Kysely } from 'kysely';
import type { Tables } from '../database/tables.js';
import type { RecordedEvent } from '../event-store/event-store.js';

/** Where a projection writes: the live tables (schema `public`) or a shadow/scratch schema during a rebuild. */
export interface ProjectionContext {
  trx: Kysely<Tables>;
  schema: string;
}

/**
 * A read model fed from the global log. `apply` runs inside the transaction that also stores the
 * projection's checkpoint, so each event's effect lands exactly once. It must be deterministic: a rebuild
 * from position 0 has to produce the same rows.
 */
export interface Projection {
  readonly name: string;
  /** Tables this projection owns (created by migrations; copied for rebuilds). */
  readonly tables: readonly (keyof Tables & string)[];
  /** Receives every event in global order (already upcast); ignores the types it does not handle. */
  apply(ctx: ProjectionContext, events: readonly RecordedEvent[]): Promise<void>;
  /** Optional: runs after the batch's transaction committed on the live schema (cache invalidation, notifications). */
  afterCommit?(events: readonly RecordedEvent[]): void | Promise<void>;
}
