import { createHash } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { metrics } from '../../observability/metrics.js';

/** Cache of computed system health documents; entries expire after the TTL and are dropped when a system changes. */
export interface HealthCache {
  readonly kind: 'memory' | 'nats-kv';
  /** Returns the cached value or computes, stores and returns it. Counts hits and misses. */
  getOrCompute<T>(systemId: string, compute: () => Promise<T>): Promise<{ value: T; cached: boolean }>;
  invalidate(systemIds: Iterable<string>): Promise<void>;
  close(): Promise<void>;
}

/** In-process cache (embedded mode). A generation per key stops a computation that raced an invalidation from being stored. */
export class MemoryHealthCache implements HealthCache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: unknown; expires: number }>();
  private readonly generations = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  async getOrCompute<T>(systemId: string, compute: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const hit = this.entries.get(systemId);
    if (hit && hit.expires > Date.now()) {
      metrics.cacheHits.inc({ cache: 'health' });
      return { value: hit.value as T, cached: true };
    }
    metrics.cacheMisses.inc({ cache: 'health' });
    const generation = this.generations.get(systemId) ?? 0;
    const value = await compute();
    // Absent results (unknown system) are not cached: the first readings must show up at once.
    if (value != null && (this.generations.get(systemId) ?? 0) === generation) this.entries.set(systemId, { value, expires: Date.now() + this.ttlMs });
    return { value, cached: false };
  }

  async invalidate(systemIds: Iterable<string>): Promise<void> {
    for (const id of systemIds) {
      this.entries.delete(id);
      this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

export const HEALTH_BUCKET = 'health_cache';

/**
 * The bucket of one deployment: HEALTH_CACHE_BUCKET, else `health_cache_` and a hash of where its data lives
 * (event store and database URLs). Replicas of one deployment share it; two deployments on one NATS server
 * never read each other's entries (before: every deployment used `health_cache`).
 */
export function healthBucketFor(config: { HEALTH_CACHE_BUCKET?: string; DATABASE_URL?: string; EVENTSTORE_URL?: string; DATA_DIR: string }): string {
  if (config.HEALTH_CACHE_BUCKET) return config.HEALTH_CACHE_BUCKET;
  const where = [config.EVENTSTORE_URL ?? '', config.DATABASE_URL ?? config.DATA_DIR].join('\u0000');
  return `${HEALTH_BUCKET}_${createHash('sha256').update(where).digest('hex').slice(0, 12)}`;
}

/** NATS KV keys allow [-/_=.A-Za-z0-9]; system ids may also hold ':'. */
function kvKey(systemId: string): string {
  return `h.${Buffer.from(systemId).toString('base64url')}`;
}

/**
 * Shared cache for several API instances (server mode). nats-server 2.9 only has a bucket-wide TTL (max_age), so
 * the bucket is created with the health TTL; invalidation deletes the key, which every instance sees.
 */
export class NatsKvHealthCache implements HealthCache {
  readonly kind = 'nats-kv' as const;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
  ) {}

  static async connect(url: string, ttlMs: number, bucket = HEALTH_BUCKET): Promise<NatsKvHealthCache> {
    const nc = await connect({ servers: url, name: 'anomaly-platform-health-cache' });
    try {
      const kvm = new Kvm(nc);
      // create() also updates an existing bucket's TTL; should the server refuse, use the bucket as it is.
      const kv = await kvm.create(bucket, { ttl: ttlMs, history: 1 }).catch(() => kvm.open(bucket));
      return new NatsKvHealthCache(nc, kv);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  async getOrCompute<T>(systemId: string, compute: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const entry = await this.kv.get(kvKey(systemId));
    if (entry && entry.operation === 'PUT' && entry.length > 0) {
      metrics.cacheHits.inc({ cache: 'health' });
      return { value: entry.json<T>(), cached: true };
    }
    metrics.cacheMisses.inc({ cache: 'health' });
    const value = await compute();
    if (value != null) await this.kv.put(kvKey(systemId), JSON.stringify(value));
    return { value, cached: false };
  }

  async invalidate(systemIds: Iterable<string>): Promise<void> {
    for (const id of systemIds) await this.kv.delete(kvKey(id));
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
