import { describe, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { createDatabase } from '../../src/database/create-database.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { EVENT_LOG_BACKENDS, createTestDatabase } from '../support/test-databases.js';
import { eventStoreContract } from './event-store.contract.js';
import { startEventStoreDb } from './eventstoredb-server.js';

/**
 * The contract, once per adapter. `CONTRACT_SNAPSHOT_RULE=off` runs the PostgreSQL adapter without the
 * snapshot rule: the ordering-under-contention test must then fail (see docs/event-store.md).
 */
const snapshotRule = process.env.CONTRACT_SNAPSHOT_RULE !== 'off';

for (const backend of EVENT_LOG_BACKENDS) {
  eventStoreContract(snapshotRule ? backend : `${backend} WITHOUT the snapshot rule`, async () => {
    const t = await createTestDatabase(backend);
    const options = { pollIntervalMs: 50, applySnapshotRule: snapshotRule };
    const opened: { close(): Promise<void> }[] = [];
    return {
      store: new PostgresEventStore(t.database, options),
      async reopen() {
        // PostgreSQL: a new pool, as a restarted process would have. PGlite has one session per database.
        if (!t.url) return new PostgresEventStore(t.database, options);
        const database = await createDatabase({ url: t.url, poolSize: 4 });
        opened.push(database);
        return Object.assign(new PostgresEventStore(database, options), { close: () => database.close() });
      },
      async contended() {
        if (!t.url) return new PostgresEventStore(t.database, options);
        // Writers hold their transaction open for a random 0–20 ms after inserting, so transactions that
        // took lower sequence numbers commit after higher ones. PGlite has one session, so its commits cannot interleave.
        return new PostgresEventStore(t.database, {
          ...options,
          beforeCommit: async (trx) => {
            await sql`select pg_sleep(random() * 0.02)`.execute(trx);
          },
        });
      },
      async cutConnections() {
        if (!t.url) throw new Error('PGlite has no connections to cut');
        const admin = new pg.Client({ connectionString: t.url });
        await admin.connect();
        try {
          await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
        } finally {
          await admin.end();
        }
      },
      async dispose() {
        for (const d of opened) await d.close().catch(() => undefined);
        await t.dispose();
      },
    };
  }, { connectionsCanBeCut: backend === 'postgres' });
}

/**
 * The EventStoreDB adapter over SimulatedEsdbServer, an in-memory model of the server's rules (see its
 * file): it exercises the adapter's decisions end to end where no server runs. A model, not the judge: the
 * block below runs the same contract against a real server wherever one is reachable.
 */
eventStoreContract('eventstoredb adapter on the simulated server (a model of the server, not the judge)', async () => {
  const { SimulatedEsdbServer } = await import('../../src/event-store/eventstoredb/simulated-server.js');
  const { EventStoreDbEventStore } = await import('../../src/event-store/eventstoredb/eventstoredb-event-store.js');
  const { UnavailableError } = await import('@kurrent/kurrentdb-client');
  const server = new SimulatedEsdbServer();
  const fast = { resubscribe: { attempts: 5, initialDelayMs: 10, maxDelayMs: 100 } };
  return {
    store: new EventStoreDbEventStore(server.client(), fast),
    reopen: async () => new EventStoreDbEventStore(server.client(), fast),
    cutConnections: async () => server.dropSubscriptions(new UnavailableError(undefined, 'server restarted')),
    dispose: async () => undefined,
  };
}, { connectionsCanBeCut: true });

const esdb = await startEventStoreDb();
if (esdb.available) {
  eventStoreContract(`eventstoredb (${esdb.source})`, async () => {
    const { EventStoreDbEventStore } = await import('../../src/event-store/eventstoredb/eventstoredb-event-store.js');
    const store = await EventStoreDbEventStore.connect(esdb.url);
    const opened = [store];
    return {
      store,
      async reopen() {
        const s = await EventStoreDbEventStore.connect(esdb.url);
        opened.push(s);
        return s;
      },
      async dispose() {
        for (const s of opened) await s.close();
        await esdb.stop();
      },
    };
  });
} else {
  const title = `eventstoredb: skipped — ${esdb.reason}`;
  console.warn(title);
  describe.skip(title, () => {
    it('runs the event store contract against EventStoreDB', () => undefined);
  });
}
