import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDatabase } from '../../src/database/create-database.js';
import type { Database } from '../../src/database/database.js';
import type { NewEvent, RecordedEvent } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';

/**
 * A subscription survives its connections being cut (a database restart, a failover, an administrator's
 * pg_terminate_backend): it reads on from the last handled position after a short backoff, keeps its
 * caught-up state, and never reports the connection error to onError. PostgreSQL only: PGlite runs inside
 * the process and has no connection to cut. The test creates its database and terminates only that
 * database's backends.
 */
const event = (): NewEvent => ({
  eventId: randomUUID(),
  type: 'RecoveryTested',
  data: {},
  metadata: { correlationId: randomUUID(), schemaVersion: 1, occurredAt: new Date().toISOString() },
});

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function appendWithOwnPool(url: string, stream: string, events: NewEvent[]): Promise<void> {
  const writer: Database = await createDatabase({ url, poolSize: 1 });
  try {
    await new PostgresEventStore(writer).append(stream, events);
  } finally {
    await writer.close();
  }
}

describe('postgres subscription: resubscribes after its connections are terminated', () => {
  let t: TestDatabase;
  let admin: pg.Client;
  let locker: pg.Client;

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    admin = new pg.Client({ connectionString: t.url });
    locker = new pg.Client({ connectionString: t.url });
    await admin.connect();
    await locker.connect();
  }, 60_000);

  afterAll(async () => {
    await locker?.end().catch(() => undefined);
    await admin?.end().catch(() => undefined);
    await t?.dispose();
  });

  it('a read cut by pg_terminate_backend is retried from the last handled position; onError stays silent', async () => {
    const store = new PostgresEventStore(t.database, { pollIntervalMs: 50, resubscribe: { attempts: 10, initialDelayMs: 20, maxDelayMs: 200 } });
    const stream = `recovery-${randomUUID()}`;
    const before = [event(), event(), event()];
    // Each write uses its own short-lived pool: the termination below cuts every other backend of the database,
    // and an idle writer connection cut with them could be handed out before the pool sees it die. The test is
    // about the subscriber, not about a writer's pool (CI failed once on that race).
    await appendWithOwnPool(t.url!, stream, before);

    const received: RecordedEvent[] = [];
    let caughtUpCalls = 0;
    let failure: unknown;
    const sub = store.subscribeToAll({
      filter: { streamPrefixes: ['recovery-'] },
      handler: async (batch) => void received.push(...batch),
      onCaughtUp: () => caughtUpCalls++,
      onError: (error) => (failure = error),
    });
    await sub.caughtUp;
    expect(received).toHaveLength(3);

    // Hold the subscriber's next read on a lock, so that the termination meets a query in flight.
    const { rows } = await locker.query<{ pid: number }>('select pg_backend_pid() as pid');
    await locker.query('begin');
    await locker.query('lock table events in access exclusive mode');
    await until(async () => {
      const waiting = await admin.query(
        "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> $1",
        [rows[0]!.pid],
      );
      return (waiting.rowCount ?? 0) > 0;
    }, 'the subscriber to wait on the lock');
    const terminated = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid not in (pg_backend_pid(), $1)',
      [rows[0]!.pid],
    );
    expect(terminated.rowCount).toBeGreaterThan(0);
    await locker.query('rollback');

    const after = [event(), event()];
    await appendWithOwnPool(t.url!, stream, after);
    await until(() => received.length >= 5 || failure !== undefined, 'the events written after the termination');
    await sub.stop();

    expect(failure).toBeUndefined();
    expect(received.map((e) => e.eventId)).toEqual([...before, ...after].map((e) => e.eventId));
    expect(caughtUpCalls).toBe(1);
  }, 60_000);
});
