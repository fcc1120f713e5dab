import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/test-databases.js';

describe.each(BACKENDS)('read-side migration on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
  });
  afterAll(async () => t?.dispose());

  it('creates the read-side tables and reports which backend it uses', async () => {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public'
        and table_name in ('anomaly_trend_windows', 'anomaly_trend_hourly', 'system_equipment', 'active_model_versions')
      order by table_name`.execute(t.database.db);
    expect(rows.map((r) => r.table_name)).toEqual(['active_model_versions', 'anomaly_trend_hourly', 'anomaly_trend_windows', 'system_equipment']);
    const ext = await t.database.extensions();
    // The TimescaleDB objects exist exactly when the extension does.
    const { rows: caggs } = await sql<{ n: number }>`
      select count(*)::int as n from pg_class where relname in ('anomaly_trend_hourly_cagg', 'anomaly_trend_daily_cagg')`.execute(t.database.db);
    expect(caggs[0]!.n).toBe(ext.timescaledb ? 2 : 0);
  });
});
