import { createHash } from 'node:crypto';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import type { LeaseBackend } from './lease-backend.js';
import { LocalLeaseBackend } from './local-lease-backend.js';
import { NatsKvLeaseBackend } from './nats-kv-lease-backend.js';
import { PostgresAdvisoryLeaseBackend } from './postgres-advisory-lease-backend.js';

/**
 * Embedded PGlite is one process (its data-dir lock sees to that): it holds every lease. With the log on EventStoreDB
 * and NATS configured, a NATS KV bucket with a TTL; otherwise session advisory locks on the read-model database; they
 * end with the worker's session (docs/event-store.md "Partitions and leases per adapter").
 */
export function createLeaseBackend(config: AppConfig, database: Database): LeaseBackend {
  if (database.backend === 'pglite' || !config.DATABASE_URL) return new LocalLeaseBackend();
  if (config.EVENTSTORE_URL && config.NATS_URL) {
    return new NatsKvLeaseBackend(config.NATS_URL, { bucket: leaseBucketFor(config), ttlMs: config.LEASE_TTL_MS, heartbeatMs: config.LEASE_INTERVAL_MS });
  }
  return new PostgresAdvisoryLeaseBackend(config.DATABASE_URL, { heartbeatMs: config.LEASE_INTERVAL_MS });
}

/** LEASE_BUCKET, else one per deployment: two deployments on one NATS server never share (and fight over) leases. */
export function leaseBucketFor(config: { LEASE_BUCKET?: string; EVENTSTORE_URL?: string; DATABASE_URL?: string }): string {
  if (config.LEASE_BUCKET) return config.LEASE_BUCKET;
  const where = [config.EVENTSTORE_URL ?? '', config.DATABASE_URL ?? ''].join('\u0000');
  return `partition_leases_${createHash('sha256').update(where).digest('hex').slice(0, 12)}`;
}
