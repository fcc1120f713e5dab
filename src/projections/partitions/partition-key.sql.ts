import { sql, type RawBuilder } from 'kysely';
import type { PartitionSlot } from '../../events/partition-key.js';

/** src/events/partition-key.ts in SQL (as migrations/0010 backfills it), over two text columns or expressions. */
export function partitionKeySql(systemId: RawBuilder<unknown>, equipmentId: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`((('x' || substr(md5(${systemId} || chr(31) || ${equipmentId}), 1, 8))::bit(32)::int) & 2147483647)`;
}

/**
 * `and <the row's equipment is in the slot>`, for a keyless event (one every partition receives) that updates rows
 * by another key: only the partition that owns the row may apply it, in its own log order. Empty without a slot.
 */
export function rowInSlot(slot: PartitionSlot | undefined, systemId: RawBuilder<unknown>, equipmentId: RawBuilder<unknown>): RawBuilder<unknown> {
  if (!slot || slot.count <= 1) return sql``;
  return sql`and ${partitionKeySql(systemId, equipmentId)} % ${slot.count}::int = ${slot.index}::int`;
}
