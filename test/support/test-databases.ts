import { createDatabase } from '../../src/database/create-database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/database/scratch-database.js';
import type { Backend, Database } from '../../src/database/database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { pgliteTemplate } from './pglite-template.js';

/** The PostgreSQL server tests use; CI starts it on 127.0.0.1:5432 (trust auth). */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const BACKENDS: Backend[] = ['pglite', 'postgres'];

export interface TestDatabase {
  database: Database;
  url?: string;
  /** Closes the database and drops it (PostgreSQL) — every test run starts from nothing. */
  dispose(): Promise<void>;
}

/** A fresh, migrated database: an in-memory PGlite, or a new database on the PostgreSQL server. */
export async function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const database = await createDatabase({ dataDir: 'memory://', loadDataDir: await pgliteTemplate() });
    await migrateToLatest(database);
    return { database, dispose: () => database.close() };
  }
  const { url, drop } = await createPostgresDatabase();
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

/** Creates an empty database on the test server; `drop` removes it (terminating stray connections). */
export function createPostgresDatabase(): Promise<ScratchDatabase> {
  return createScratchDatabase(POSTGRES_ADMIN_URL, 'test');
}
