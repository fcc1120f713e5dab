import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { MemoryHealthCache, NatsKvHealthCache, type HealthCache } from '../../src/queries/health/health-cache.js';
import { registry } from '../../src/observability/metrics.js';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const buckets: string[] = [];

async function count(name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => v.labels.cache === 'health').reduce((n, v) => n + Number(v.value), 0);
}

const caches: [string, (ttlMs: number) => Promise<HealthCache>][] = [
  ['in-process', async (ttl) => new MemoryHealthCache(ttl)],
  [
    'NATS KV',
    async (ttl) => {
      const bucket = `health_test_${randomBytes(4).toString('hex')}`;
      buckets.push(bucket);
      return NatsKvHealthCache.connect(NATS_URL, ttl, bucket);
    },
  ],
];

afterAll(async () => {
  const nc = await connect({ servers: NATS_URL });
  const kvm = new Kvm(nc);
  for (const b of buckets) await (await kvm.open(b)).destroy().catch(() => undefined);
  await nc.close();
});

describe.each(caches)('%s health cache', (_name, create) => {
  it('misses, then hits, then misses again after invalidation, counting both', async () => {
    const cache = await create(60_000);
    try {
      let computed = 0;
      const compute = async () => ({ status: 'ok', n: ++computed });
      const hits = await count('cache_hits_total');
      const misses = await count('cache_misses_total');
      expect(await cache.getOrCompute('rig:1', compute)).toEqual({ value: { status: 'ok', n: 1 }, cached: false });
      expect(await cache.getOrCompute('rig:1', compute)).toEqual({ value: { status: 'ok', n: 1 }, cached: true });
      expect(await cache.getOrCompute('rig-2', compute)).toEqual({ value: { status: 'ok', n: 2 }, cached: false });
      await cache.invalidate(['rig:1']);
      expect(await cache.getOrCompute('rig:1', compute)).toEqual({ value: { status: 'ok', n: 3 }, cached: false });
      expect(await cache.getOrCompute('rig-2', compute)).toEqual({ value: { status: 'ok', n: 2 }, cached: true });
      expect(await count('cache_hits_total')).toBe(hits + 2);
      expect(await count('cache_misses_total')).toBe(misses + 3);
    } finally {
      await cache.close();
    }
  });

  it('expires entries after the TTL and does not cache an absent system', async () => {
    const cache = await create(1_000);
    try {
      let n = 0;
      expect((await cache.getOrCompute('gone', async () => null)).cached).toBe(false);
      expect((await cache.getOrCompute('gone', async () => null)).cached).toBe(false);
      await cache.getOrCompute('rig', async () => ++n);
      expect((await cache.getOrCompute('rig', async () => ++n)).cached).toBe(true);
      await new Promise((r) => setTimeout(r, 1_600));
      expect(await cache.getOrCompute('rig', async () => ++n)).toEqual({ value: 2, cached: false });
    } finally {
      await cache.close();
    }
  });
});
