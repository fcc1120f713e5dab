import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { createDatabase } from '../../src/database/create-database.js';
import type { Database } from '../../src/database/database.js';
import type { ScratchDatabase } from '../../src/database/scratch-database.js';
import { createPostgresDatabase, POSTGRES_ADMIN_URL } from '../support/test-databases.js';

// The server may end an idle pooled connection at any time (restart, pg_terminate_backend, a failover):
// the service must carry on with a new connection, not exit on an unhandled 'error' event.
describe('PostgreSQL pool', () => {
  let scratch: ScratchDatabase;
  let database: Database;
  beforeAll(async () => {
    scratch = await createPostgresDatabase();
    database = await createDatabase({ url: scratch.url, poolSize: 2 });
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('survives the server ending its idle connections', async () => {
    await sql`select 1`.execute(database.db);
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      const dbName = new URL(scratch.url).pathname.slice(1);
      const { rows } = await admin.query<{ ended: boolean }>(
        `select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = $1 and application_name = 'anomaly-platform'`,
        [dbName],
      );
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // Let the termination notice reach the idle client (the 'error' event fires then).
    await new Promise((r) => setTimeout(r, 200));
    const { rows } = await sql<{ n: number }>`select 41 + 1 as n`.execute(database.db);
    expect(rows[0]!.n).toBe(42);
  });
});
