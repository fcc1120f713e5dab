import { describe, expect, it } from '@jest/globals';
import { eventPartitionKey, inSlot, partitionKey, partitionOf } from './partition-key.js';

describe('partition key', () => {
  it('is stable: pinned values (what migrations/0010 computes in SQL for the same strings), so a changed hash cannot pass unnoticed', () => {
    expect(partitionKey('rig-1', 'pump-A')).toBe(1456256972);
    expect(partitionKey('', '')).toBe(756957646);
    expect(partitionKey('Prüfstand-Ω', '泵-1')).toBe(1770388371);
    // The separator keeps ("a", "b") apart from ("a\u001fb", "")'s neighbours with another split.
    expect(partitionKey('ab', '')).not.toBe(partitionKey('a', 'b'));
  });

  it('is a non-negative int4 and spreads one system over all partitions', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 1600; i++) {
      const key = partitionKey('one-big-system', `equipment-${i}`);
      expect(key).toBeGreaterThanOrEqual(0);
      expect(key).toBeLessThanOrEqual(2 ** 31 - 1);
      counts[partitionOf(key, 16)]++;
    }
    // 100 expected per partition; a fair hash stays well inside 50..150.
    for (const n of counts) expect(n).toBeGreaterThan(50);
    for (const n of counts) expect(n).toBeLessThan(150);
  });

  it('keys events that name a system and an equipment; every other event goes to every partition', () => {
    expect(eventPartitionKey({ systemId: 's', equipmentId: 'e' })).toBe(partitionKey('s', 'e'));
    expect(eventPartitionKey({ systemId: 's' })).toBeNull();
    expect(eventPartitionKey({ modelVersion: '1.2.1' })).toBeNull();
    expect(eventPartitionKey(null)).toBeNull();
    expect(inSlot(null, { index: 3, count: 16 })).toBe(true);
    const key = partitionKey('s', 'e');
    expect(inSlot(key, { index: key % 16, count: 16 })).toBe(true);
    expect(inSlot(key, { index: (key + 1) % 16, count: 16 })).toBe(false);
    expect(inSlot(key, undefined)).toBe(true);
  });
});
