import { describe, expect, it } from '@jest/globals';
import { countEventLoopTurns } from '../../test/support/event-loop-turns.js';
import { sql } from 'kysely';
import { createDatabase } from './create-database.js';

describe('embedded database (PGlite) and the event loop', () => {
  it('given a chain of queries, when they run, then the event loop gets a turn after each one (I/O is served meanwhile)', async () => {
    const database = await createDatabase({ dataDir: 'memory://' });
    try {
      await sql`create table chain (id int)`.execute(database.db);
      const loop = countEventLoopTurns();
      for (let i = 0; i < 50; i++) await sql`insert into chain values (${i})`.execute(database.db);
      await database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 50; i++) await sql`insert into chain values (${i})`.execute(trx);
      });
      const turns = loop.stop();
      expect(turns).toBeGreaterThanOrEqual(100);
    } finally {
      await database.close();
    }
  });
});
