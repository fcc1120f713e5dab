import type { PartitionSlot } from '../../events/partition-key.js';

/**
 * The lease and checkpoint name of one unit of work: the consumer's own name when it runs whole (P = 1, or a
 * projection that is not partitioned), else `consumer#index/P` (e.g. `sensor_readings#3/16`). The count is part of the
 * name, so checkpoints of another P never mix with these (`projections repartition` moves them).
 */
export function unitName(consumer: string, slot: PartitionSlot | undefined): string {
  return slot && slot.count > 1 ? `${consumer}#${slot.index}/${slot.count}` : consumer;
}

/** The consumer a unit or checkpoint name belongs to. */
export function consumerOf(name: string): string {
  const hash = name.indexOf('#');
  return hash < 0 ? name : name.slice(0, hash);
}

/** The slot a unit name stands for (undefined: the whole log). */
export function slotOf(name: string): PartitionSlot | undefined {
  const match = /#(\d+)\/(\d+)$/.exec(name);
  return match ? { index: Number(match[1]), count: Number(match[2]) } : undefined;
}

/** Every slot of P partitions; one undefined slot (the whole log) for P = 1. */
export function slots(partitions: number): (PartitionSlot | undefined)[] {
  if (partitions <= 1) return [undefined];
  return Array.from({ length: partitions }, (_, index) => ({ index, count: partitions }));
}
