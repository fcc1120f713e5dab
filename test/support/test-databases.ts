import { createDatabase } from '../../src/database/create-database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/database/scratch-database.js';
import type { Backend, Database } from '../../src/database/database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { pgliteTemplate } from './pglite-template.js';

/** The PostgreSQL server tests use; CI starts it on 127.0.0.1:5432 (trust auth). */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The TimescaleDB server: the private cluster test/support/timescaledb.global-setup.mjs starts for the run (or a
 * server given as TEST_TIMESCALEDB_URL). Undefined when TimescaleDB is not built; the reason is then in
 * TIMESCALEDB_UNAVAILABLE.
 */
export const TIMESCALEDB_ADMIN_URL = process.env.TEST_TIMESCALEDB_URL;
export const TIMESCALEDB_UNAVAILABLE = TIMESCALEDB_ADMIN_URL
  ? undefined
  : (process.env.TEST_TIMESCALEDB_UNAVAILABLE ?? 'no TimescaleDB cluster (jest globalSetup did not run)');

/** What a SQL suite runs on: PGlite, the system PostgreSQL, and PostgreSQL with TimescaleDB preloaded. */
export type TestBackend = 'pglite' | 'postgres' | 'timescaledb';

/**
 * The backend matrix of the SQL suites (one loop, as kysely runs its suite over dialects). Without a TimescaleDB
 * build a developer's run leaves that backend out and says why; CI keeps it, so a missing build fails there.
 */
export const BACKENDS: TestBackend[] = ['pglite', 'postgres', 'timescaledb'].filter((backend) => {
  if (backend !== 'timescaledb' || TIMESCALEDB_ADMIN_URL || process.env.CI) return true;
  console.warn(`SKIPPED the timescaledb backend: ${TIMESCALEDB_UNAVAILABLE}`);
  return false;
}) as TestBackend[];

/**
 * For the suites of the event log and the HTTP layer (test/event-store, test/http): they touch no read-model
 * object that TimescaleDB changes, so a timescaledb run would repeat the postgres one at CI's expense.
 */
export const EVENT_LOG_BACKENDS: Backend[] = BACKENDS.filter((backend): backend is Backend => backend !== 'timescaledb');

export interface TestDatabase {
  database: Database;
  url?: string;
  /** Closes the database and drops it (PostgreSQL) — every test run starts from nothing. */
  dispose(): Promise<void>;
}

/** A fresh, migrated database: an in-memory PGlite, or a new database on the PostgreSQL or TimescaleDB server. */
export async function createTestDatabase(backend: TestBackend): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const database = await createDatabase({ dataDir: 'memory://', loadDataDir: await pgliteTemplate() });
    await migrateToLatest(database);
    return { database, dispose: () => database.close() };
  }
  const { url, drop } = await createPostgresDatabase(backend);
  const database = await createDatabase({ url, poolSize: 12 });
  await migrateToLatest(database);
  return {
    database,
    url,
    async dispose() {
      await database.close();
      await drop();
    },
  };
}

/** The admin URL of a server backend; throws with the reason when TimescaleDB is not there. */
export function adminUrl(backend: 'postgres' | 'timescaledb'): string {
  if (backend === 'postgres') return POSTGRES_ADMIN_URL;
  if (!TIMESCALEDB_ADMIN_URL) throw new Error(`TimescaleDB test backend unavailable: ${TIMESCALEDB_UNAVAILABLE}`);
  return TIMESCALEDB_ADMIN_URL;
}

/** Creates an empty database on the test server; `drop` removes it (terminating stray connections). */
export function createPostgresDatabase(backend: 'postgres' | 'timescaledb' = 'postgres'): Promise<ScratchDatabase> {
  return createScratchDatabase(adminUrl(backend), 'test');
}
