import { describe, expect, it } from '@jest/globals';
import { configSchema } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import { createLeaseBackend, leaseBucketFor } from './create-lease-backend.js';
import type { NatsKvLeaseBackend } from './nats-kv-lease-backend.js';

/** Which lease backend a deployment gets (constructors connect nothing: start() does). */
const on = (backend: 'pglite' | 'postgres') => ({ backend }) as Database;
const config = (env: Record<string, string>) => configSchema.parse(env);
const pg = { DATABASE_URL: 'postgres://db/app' };
const esdb = { ...pg, EVENTSTORE_URL: 'esdb://esdb:2113?tls=false', NATS_URL: 'nats://nats:4222' };

describe('createLeaseBackend', () => {
  it('embedded PGlite: local; PostgreSQL log: advisory locks, also with NATS configured', () => {
    expect(createLeaseBackend(config({}), on('pglite')).kind).toBe('local');
    expect(createLeaseBackend(config(pg), on('postgres')).kind).toBe('postgres-advisory');
    expect(createLeaseBackend(config({ ...pg, NATS_URL: 'nats://nats:4222' }), on('postgres')).kind).toBe('postgres-advisory');
  });

  it('EventStoreDB log with NATS: a KV bucket with LEASE_TTL_MS, heartbeat = the lease round, one bucket per deployment', () => {
    const backend = createLeaseBackend(config({ ...esdb, LEASE_TTL_MS: '6000', LEASE_INTERVAL_MS: '2000' }), on('postgres')) as NatsKvLeaseBackend;
    expect(backend.kind).toBe('nats-kv');
    expect({ ttl: backend.ttlMs, heartbeat: backend.heartbeatMs, bound: backend.leaseBoundMs }).toEqual({ ttl: 6000, heartbeat: 2000, bound: 8000 });
    expect(backend.bucket).toBe(leaseBucketFor(esdb));
    expect(leaseBucketFor(esdb)).toMatch(/^partition_leases_[0-9a-f]{12}$/);
    expect(leaseBucketFor({ ...esdb, DATABASE_URL: 'postgres://db/other' })).not.toBe(leaseBucketFor(esdb));
    expect(leaseBucketFor({ ...esdb, LEASE_BUCKET: 'plant_7' })).toBe('plant_7');
    // A TTL that one late round could outlive is refused at start-up, not found out by flapping leases.
    expect(() => createLeaseBackend(config({ ...esdb, LEASE_TTL_MS: '3000', LEASE_INTERVAL_MS: '2000' }), on('postgres'))).toThrow(/at most half the TTL/);
  });
});
