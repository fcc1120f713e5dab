import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { LeaseBackend } from '../../src/projections/partitions/lease-backend.js';
import { NatsKvLeaseBackend } from '../../src/projections/partitions/nats-kv-lease-backend.js';
import { PostgresAdvisoryLeaseBackend } from '../../src/projections/partitions/postgres-advisory-lease-backend.js';
import { createScratchDatabase } from '../../src/database/scratch-database.js';
import pg from 'pg';
import { POSTGRES_ADMIN_URL } from '../support/test-databases.js';
import { NATS_URL } from '../jobs/nats-url.js';
import { leaseBackendContract } from './lease-backend.contract.js';

/** The lease contract, once per backend (as kysely runs one suite over its dialects). */

// NATS KV on the real server: a bucket per test, deleted afterwards. A short TTL keeps the dead-worker case quick.
leaseBackendContract('nats-kv', async () => {
  const bucket = `test_leases_${randomBytes(4).toString('hex')}`;
  const options = { bucket, ttlMs: 2_000, heartbeatMs: 500 };
  return {
    worker: () => new NatsKvLeaseBackend(NATS_URL, options),
    heartbeatMs: options.heartbeatMs,
    // A hung process: it renews nothing, its connection stays; the suite has stopped its heartbeat already.
    kill: async () => undefined,
    async dispose() {
      const nc = await connect({ servers: NATS_URL });
      try {
        await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
      } finally {
        await nc.close();
      }
    },
  };
});

// Session advisory locks on a scratch database of the test server; a killed worker = its lease session terminated.
leaseBackendContract('postgres-advisory', async () => {
  const db = await createScratchDatabase(POSTGRES_ADMIN_URL, 'test_leases');
  // Short keepalives: the bound they give is what the dead-worker case waits for at most.
  const options = { heartbeatMs: 250, keepaliveIdleSeconds: 1, keepaliveIntervalSeconds: 1, keepaliveCount: 1 };
  return {
    worker: () => new PostgresAdvisoryLeaseBackend(db.url, options),
    heartbeatMs: options.heartbeatMs,
    async kill(worker) {
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        // The backend names its session after the worker (application_name keeps 63 bytes).
        const { rows } = await admin.query('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = left($1, 63)', [
          `anomaly-platform-leases ${worker.workerId}`,
        ]);
        if (rows.length !== 1) throw new Error(`expected one lease session of ${worker.workerId}, found ${rows.length}`);
      } finally {
        await admin.end();
      }
    },
    dispose: () => db.drop(),
  };
});

// The same worker killed outright (its connection closed without releasing): only the TTL frees its leases.
describe('nats-kv: a killed process', () => {
  it('loses its leases within leaseBoundMs although it never released them', async () => {
    const bucket = `test_leases_${randomBytes(4).toString('hex')}`;
    const options = { bucket, ttlMs: 2_000, heartbeatMs: 500 };
    const a = new NatsKvLeaseBackend(NATS_URL, options);
    const b = new NatsKvLeaseBackend(NATS_URL, options);
    await a.start(() => undefined);
    await b.start(() => undefined);
    try {
      expect(await a.tryAcquire('p-1')).toBe(true);
      expect(await b.tryAcquire('p-1')).toBe(false);
      const killedAt = Date.now();
      await a.abandon();
      const timer = setInterval(() => void b.heartbeat().catch(() => undefined), options.heartbeatMs);
      try {
        while (!(await b.tryAcquire('p-1'))) {
          if (Date.now() - killedAt > a.leaseBoundMs + 10_000) throw new Error('the killed worker still holds p-1');
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        clearInterval(timer);
      }
      // Not before the TTL: the key lived on after the process died (nothing released it).
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(options.ttlMs - options.heartbeatMs);
      expect(await b.workers()).toBe(1);
    } finally {
      // A no-op once abandoned; otherwise (a failure before) its open connection would keep jest from exiting.
      await a.close();
      await b.close();
      const nc = await connect({ servers: NATS_URL });
      await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
      await nc.close();
    }
  }, 60_000);

  it('a release racing a renewal still frees the lease at once, and reports nothing lost', async () => {
    const bucket = `test_leases_${randomBytes(4).toString('hex')}`;
    const options = { bucket, ttlMs: 10_000, heartbeatMs: 1_000 };
    const a = new NatsKvLeaseBackend(NATS_URL, options);
    const b = new NatsKvLeaseBackend(NATS_URL, options);
    const lost: string[] = [];
    await a.start((names) => void lost.push(...names));
    await b.start(() => undefined);
    try {
      for (let i = 0; i < 10; i++) {
        expect(await a.tryAcquire(`p-${i}`)).toBe(true);
        await Promise.all([a.heartbeat(), a.release(`p-${i}`)]);
        // Well inside the 10 s TTL: only a real delete makes it free now.
        expect(await b.tryAcquire(`p-${i}`)).toBe(true);
      }
      // A renewal that lost the race to the release is no lost lease.
      expect(lost).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      const nc = await connect({ servers: NATS_URL });
      await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
      await nc.close();
    }
  });

  it('refuses a bucket whose TTL differs from its own (the bound it reports would be false)', async () => {
    const bucket = `test_leases_${randomBytes(4).toString('hex')}`;
    const a = new NatsKvLeaseBackend(NATS_URL, { bucket, ttlMs: 2_000, heartbeatMs: 500 });
    await a.start(() => undefined);
    try {
      const other: LeaseBackend = new NatsKvLeaseBackend(NATS_URL, { bucket, ttlMs: 4_000, heartbeatMs: 500 });
      await expect(other.start(() => undefined)).rejects.toThrow(/TTL of 2000 ms/);
    } finally {
      await a.close();
      const nc = await connect({ servers: NATS_URL });
      await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
      await nc.close();
    }
  });
});
