import { afterEach, beforeEach } from '@jest/globals';
import type { EventStore } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { InferenceSaga, type InferenceSagaOptions } from '../../src/inference/inference.saga.js';
import type { WindowScorer } from '../../src/inference/window-scorer.js';
import { createTestDatabase, type TestBackend, type TestDatabase } from '../support/test-databases.js';

export interface SagaFixture {
  /** A fresh database per test, disposed after it. */
  readonly tdb: TestDatabase;
  /** The event store on it, polling fast so that the saga sees appends at once. */
  readonly store: EventStore;
  /** Starts a saga on this test's database; every saga started is stopped after the test. */
  start(scorer: WindowScorer, options: InferenceSagaOptions): Promise<InferenceSaga>;
}

/** The set-up the saga suites share: call it inside a describe block, it registers its own beforeEach/afterEach. */
export function sagaFixture(backend: TestBackend): SagaFixture {
  let tdb: TestDatabase;
  let store: EventStore;
  const sagas: InferenceSaga[] = [];

  beforeEach(async () => {
    tdb = await createTestDatabase(backend);
    store = new PostgresEventStore(tdb.database, { pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await Promise.all(sagas.splice(0).map((s) => s.stop()));
    await tdb.dispose();
  });

  return {
    get tdb() {
      return tdb;
    },
    get store() {
      return store;
    },
    async start(scorer, options) {
      const saga = new InferenceSaga(tdb.database, store, scorer, options);
      sagas.push(saga);
      await saga.start();
      return saga;
    },
  };
}
