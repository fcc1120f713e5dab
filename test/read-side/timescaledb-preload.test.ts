import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { projectRoot } from '../../src/config/paths.js';
import { createDatabase } from '../../src/database/create-database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { createScratchDatabase } from '../../src/database/scratch-database.js';
import { timescaleStatus } from '../../src/database/timescale-status.js';
import { readModelsMessage } from '../../src/read-side/read-models-message.js';

/**
 * Migration 0004 on a server that has the TimescaleDB files installed but does NOT preload the library (the state
 * of a system PostgreSQL after `make install`): CREATE EXTENSION would end the connection with a FATAL that no
 * EXCEPTION block catches, so the migration must check shared_preload_libraries first and stay on plain SQL.
 * A private cluster of its own (scripts/timescaledb/cluster.sh with shared_preload_libraries empty).
 */
const run = promisify(execFile);
const CLUSTER = join(projectRoot(), 'scripts', 'timescaledb', 'cluster.sh');

async function startUnpreloaded(): Promise<{ url: string; dir: string } | string> {
  try {
    const { stdout } = await run('bash', [CLUSTER, 'start', '--owner', String(process.pid), '-c', 'shared_preload_libraries=']);
    const [url, dir] = stdout.trim().split(' ');
    return { url: url!, dir: dir! };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    if (e.code === 3 && !process.env.CI) return 'TimescaleDB is not built (bash scripts/timescaledb/build.sh)';
    throw error;
  }
}

const cluster = await startUnpreloaded();
if (typeof cluster === 'string') console.warn(`SKIPPED migration 0004 without preload: ${cluster}`);
const describeTs = typeof cluster === 'string' ? describe.skip : describe;

describeTs('migration 0004 where timescaledb is installed but not preloaded', () => {
  const { url: adminUrl, dir } = cluster as { url: string; dir: string };
  afterAll(async () => {
    await run('bash', [CLUSTER, 'stop', dir]);
  });

  it('keeps the plain PostgreSQL read models instead of ending the connection, and says why', async () => {
    const scratch = await createScratchDatabase(adminUrl, 'test');
    const database = await createDatabase({ url: scratch.url });
    try {
      // The precondition of the defect: the extension's files are there, the library is not preloaded.
      const { rows } = await sql<{ available: boolean; preload: string }>`select
        exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
        current_setting('shared_preload_libraries') as preload`.execute(database.db);
      expect(rows[0]).toEqual({ available: true, preload: '' });

      await migrateToLatest(database);

      expect(await database.extensions()).toEqual({ timescaledb: false });
      const status = await timescaleStatus(database.db);
      expect(status).toEqual({ timescaledb: false, reason: 'not-preloaded' });
      expect(readModelsMessage('postgres', status)).toMatch(/not in shared_preload_libraries/);
      const { rows: caggs } = await sql<{ n: number }>`select count(*)::int as n from pg_class
        where relname in ('anomaly_trend_hourly_cagg', 'anomaly_trend_daily_cagg')`.execute(database.db);
      expect(caggs[0]!.n).toBe(0);
      // Later migrations and a second run still work on the same connection pool.
      expect(await migrateToLatest(database)).toEqual([]);
    } finally {
      await database.close();
      await scratch.drop();
    }
  });
});
