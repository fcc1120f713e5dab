import { describe, it } from '@jest/globals';
import { sql } from 'kysely';
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
      async dispose() {
        for (const d of opened) await d.close().catch(() => undefined);
        await t.dispose();
      },
    };
  });
}

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
