import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { LeaseCoordinator, type WorkUnit } from '../../src/projections/partitions/lease-coordinator.js';
import { NatsKvLeaseBackend } from '../../src/projections/partitions/nats-kv-lease-backend.js';
import { NATS_URL } from '../jobs/nats-url.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';

/**
 * The coordinator on NATS KV leases, as an EventStoreDB deployment runs it: two workers share the units fairly, and
 * when one dies without releasing (its NATS connection gone) the other takes every unit over within leaseBoundMs,
 * each with a raised fence in the read-model database.
 */
const TTL_MS = 2_000;
const ROUND_MS = 250;
const SLACK_MS = 10_000;

function unit(name: string, log: string[]): WorkUnit {
  return {
    name,
    consumer: 'test',
    start: async () => void log.push(`start ${name}`),
    stop: async () => void log.push(`stop ${name}`),
  };
}

async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

describe('lease coordinator on nats-kv leases', () => {
  const bucket = `test_leases_${randomBytes(4).toString('hex')}`;
  let t: TestDatabase | undefined;
  const coordinators: LeaseCoordinator[] = [];

  afterEach(async () => {
    for (const c of coordinators.splice(0)) await c.stop().catch(() => undefined);
    await t?.dispose();
    const nc = await connect({ servers: NATS_URL });
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
    await nc.close();
  });

  it('spreads the units over two workers, and the survivor takes a dead worker’s units over within leaseBoundMs', async () => {
    t = await createTestDatabase('postgres');
    const names = Array.from({ length: 6 }, (_, i) => `test#${i}/6`);
    const worker = () => {
      const log: string[] = [];
      const backend = new NatsKvLeaseBackend(NATS_URL, { bucket, ttlMs: TTL_MS, heartbeatMs: ROUND_MS });
      const coordinator = new LeaseCoordinator(backend, t!.database.db, names.map((n) => unit(n, log)), { intervalMs: ROUND_MS });
      coordinators.push(coordinator);
      return { backend, coordinator, log };
    };
    const a = worker();
    const b = worker();
    await a.coordinator.start();
    expect(a.coordinator.held()).toEqual([...names].sort());
    await b.coordinator.start();
    await eventually(() => a.coordinator.held().length === 3 && b.coordinator.held().length === 3, SLACK_MS, 'a fair share each');
    expect([...a.coordinator.held(), ...b.coordinator.held()].sort()).toEqual([...names].sort());

    // A dies: its connection closes, nothing is released; its units still "run" as far as it knows.
    const fromA = a.coordinator.held();
    await a.backend.abandon();
    const waited = await eventually(() => b.coordinator.held().length === 6, a.backend.leaseBoundMs + SLACK_MS, 'the survivor holding every unit');
    expect(waited).toBeLessThanOrEqual(a.backend.leaseBoundMs + SLACK_MS);
    // It started exactly the dead worker’s three units on top of its own.
    expect(b.log.filter((l) => fromA.some((n) => l === `start ${n}`))).toHaveLength(3);
    const { rows } = await sql<{ name: string; owner: string; epoch: string }>`select name, owner, epoch from lease_fences order by name`.execute(t.database.db);
    expect(rows.map((r) => r.name)).toEqual([...names].sort());
    expect(rows.every((r) => r.owner === b.backend.workerId)).toBe(true);
    // Every unit that moved has a newer epoch than its first holder's: A's late writes would be refused.
    expect(rows.filter((r) => fromA.includes(r.name)).every((r) => Number(r.epoch) >= 2)).toBe(true);
  }, 120_000);
});
