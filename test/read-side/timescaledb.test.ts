import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, POSTGRES_ADMIN_URL, type TestDatabase } from '../support/test-databases.js';

/**
 * The TimescaleDB path of migrations/0004_read_side.sql. Runs only against a server with TimescaleDB loadable
 * (TEST_POSTGRES_URL, e.g. the compose stack's timescaledb); elsewhere it is reported as skipped with the reason.
 */
async function timescaleAvailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await client.connect();
    const { rows } = await client.query(`select exists (select 1 from pg_available_extensions where name = 'timescaledb') as ok,
      current_setting('shared_preload_libraries') as preload`);
    if (!rows[0].ok) return `no timescaledb extension on ${new URL(POSTGRES_ADMIN_URL).host}`;
    if (!String(rows[0].preload).includes('timescaledb')) return 'timescaledb is not in shared_preload_libraries';
    return null;
  } catch (error) {
    return `cannot reach ${new URL(POSTGRES_ADMIN_URL).host}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const reason = await timescaleAvailable();
if (reason) console.warn(`SKIPPED TimescaleDB read-model tests: ${reason}`);
const describeTs = reason ? describe.skip : describe;

describeTs('read models on TimescaleDB', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
  });
  afterAll(async () => t?.dispose());

  it('makes sensor_readings a hypertable with 1-day chunks, compression and 5-year retention', async () => {
    const db = t.database.db;
    expect(await t.database.extensions()).toEqual({ timescaledb: true });
    const dims = await sql<{ time_interval: string }>`select time_interval::text from timescaledb_information.dimensions
      where hypertable_name = 'sensor_readings'`.execute(db);
    expect(dims.rows[0]?.time_interval).toBe('1 day');
    const jobs = await sql<{ proc_name: string; hypertable_name: string }>`select proc_name, hypertable_name from timescaledb_information.jobs
      where hypertable_name in ('sensor_readings', 'anomaly_trend_hourly_cagg', 'anomaly_trend_daily_cagg') order by 2, 1`.execute(db);
    expect(jobs.rows.map((j) => `${j.hypertable_name}:${j.proc_name}`)).toEqual([
      'anomaly_trend_daily_cagg:policy_refresh_continuous_aggregate',
      'anomaly_trend_hourly_cagg:policy_refresh_continuous_aggregate',
      'sensor_readings:policy_compression',
      'sensor_readings:policy_retention',
    ]);
  });

  it('serves the trend from the continuous aggregates (real-time)', async () => {
    const db = t.database.db;
    await sql`insert into anomaly_trend_windows (system_id, model_version, source, equipment_id, window_start, window_end, is_anomaly,
      severity, affected_component, components, score) values
      ('rig', 'v1', 'live', 'eq', '2026-03-01T10:05:00Z', '2026-03-01T10:06:00Z', true, 'high', 'cooler', '{}', 0.9),
      ('rig', 'v1', 'live', 'eq', '2026-03-01T10:45:00Z', '2026-03-01T10:46:00Z', true, 'low', null, '{}', 0.5)`.execute(db);
    const { rows } = await sql<{ n: number }>`select sum(anomalies)::int as n from anomaly_trend_hourly_cagg where system_id = 'rig'`.execute(db);
    expect(rows[0]!.n).toBe(2);
  });
});
