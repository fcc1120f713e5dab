import { createHash } from 'node:crypto';

/**
 * Where an event belongs when the saga and the heavy projections run as P partitions (issue #19): every event
 * of one equipment meets in one partition, and one large system still spreads over many.
 *
 * The key is the first 31 bits of md5(systemId U+001F equipmentId) over UTF-8. md5 because PostgreSQL computes
 * the same value natively, so migrations/0010 backfills stored events with exactly what this function gives
 * (partition-key.spec.ts checks both agree); 31 bits so the key is a non-negative int4 and `key % P` is the
 * partition in SQL and here alike. Not a security boundary: only spread and stability matter.
 */
export function partitionKey(systemId: string, equipmentId: string): number {
  const digest = createHash('md5').update(`${systemId}\u001f${equipmentId}`, 'utf8').digest();
  return digest.readUInt32BE(0) & 0x7fffffff;
}

/** Events that carry a system and an equipment have a key; all others (promotions, analyses) go to every partition. */
export function eventPartitionKey(data: unknown): number | null {
  const d = data as { systemId?: unknown; equipmentId?: unknown } | null;
  if (d === null || typeof d !== 'object' || typeof d.systemId !== 'string' || typeof d.equipmentId !== 'string') return null;
  return partitionKey(d.systemId, d.equipmentId);
}

/** One partition of P. */
export interface PartitionSlot {
  index: number;
  count: number;
}

export function partitionOf(key: number, count: number): number {
  return key % count;
}

/** Whether an event with this key (null: keyless, delivered everywhere) is for the slot. */
export function inSlot(key: number | null, slot: PartitionSlot | undefined): boolean {
  return slot === undefined || slot.count === 1 || key === null || partitionOf(key, slot.count) === slot.index;
}
