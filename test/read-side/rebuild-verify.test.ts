import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import type { Projection } from '../../src/projections/projection.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { allProjections } from '../../src/projections/projections.module.js';
import { projectionStatus, rebuildProjection, verifyProjection } from '../../src/read-side/operations/projection-operations.js';
import { BACKENDS, createTestDatabase, type TestBackend, type TestDatabase } from '../support/test-databases.js';
import { mixedWorkload } from './workload.js';

/** Which read-model tables are hypertables on each backend (migrations/0004 and 0006). */
const HYPERTABLES: Record<TestBackend, string[]> = {
  pglite: [],
  postgres: [],
  timescaledb: ['anomaly_trend_windows', 'sensor_readings'],
};

describe.each(BACKENDS)('projection rebuild and verify on %s', (backend) => {
  let t: TestDatabase;
  let store: PostgresEventStore;
  let runner: ProjectionRunner;
  let projections: Projection[];

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    store = new PostgresEventStore(t.database, { pollIntervalMs: 20 });
    projections = allProjections();
    runner = new ProjectionRunner(t.database, store, projections, { batchSize: 7 });
    await runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await t?.dispose();
  });

  it('a rebuild from position 0 equals the live read model after a mixed workload (verify passes for every projection)', async () => {
    const { last } = await mixedWorkload(store, 42);
    await runner.waitFor(last);
    for (const projection of projections) {
      const result = await verifyProjection({ database: t.database, store, batchSize: 11 }, projection);
      expect({ name: projection.name, equal: result.equal, tables: result.tables.filter((x) => !x.equal) }).toEqual({
        name: projection.name,
        equal: true,
        tables: [],
      });
      expect(result.events).toBeGreaterThan(0);
    }
    // The workload really filled the read models (a verify of empty tables proves nothing).
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from anomaly_trend_hourly`.execute(t.database.db);
    expect(rows[0]!.n).toBeGreaterThan(0);
  });

  it('verify fails when the live read model differs from the log', async () => {
    await sql`update system_equipment set samples = samples + 1 where system_id = 'rig-b' and equipment_id = 'eq-1'`.execute(t.database.db);
    const projection = projections.find((p) => p.name === 'system_equipment')!;
    const result = await verifyProjection({ database: t.database, store }, projection);
    expect(result.equal).toBe(false);
    expect(result.tables[0]).toMatchObject({ table: 'system_equipment', onlyInLive: 1, onlyInRebuilt: 1 });
  });

  it('rebuild swaps in tables equal to a fresh replay while events keep arriving, and the live projection carries on', async () => {
    const indexes = async () =>
      (
        await sql<{ d: string }>`select indexdef as d from pg_indexes where schemaname = 'public'
          and tablename = any(${projections.flatMap((p) => [...p.tables])}::text[]) order by indexname`.execute(t.database.db)
      ).rows.map((r) => r.d);
    const indexesBefore = await indexes();
    const writer = mixedWorkload(store, 7, 4); // appends concurrently with the rebuilds
    for (const projection of projections) {
      const result = await rebuildProjection({ database: t.database, store, batchSize: 13 }, projection);
      expect(result.events).toBeGreaterThan(0);
      // Plain tables move between schemas; hypertables, whose continuous aggregates and policies are bound to the
      // table, are refilled in place.
      const expected = Object.fromEntries(projection.tables.map((table) => [table, HYPERTABLES[backend].includes(table) ? 'copy' : 'rename']));
      expect(result.swap).toEqual(expected);
    }
    const { last } = await writer;
    await runner.waitFor(last);
    for (const projection of projections) {
      const result = await verifyProjection({ database: t.database, store }, projection);
      expect({ name: projection.name, equal: result.equal }).toEqual({ name: projection.name, equal: true });
    }
    // Same keys and indexes as the migrations created (secondary indexes are built after the replay).
    expect(await indexes()).toEqual(indexesBefore);
    if (backend === 'timescaledb') {
      // Still hypertables in public with their chunk intervals, and the real-time aggregate still equals the rollup.
      const { rows: dims } = await sql<{ t: string; i: string }>`select hypertable_name as t, time_interval::text as i
        from timescaledb_information.dimensions where hypertable_schema = 'public' order by 1`.execute(t.database.db);
      expect(dims).toEqual([{ t: 'anomaly_trend_windows', i: '7 days' }, { t: 'sensor_readings', i: '1 day' }]);
      const { rows: diff } = await sql<{ n: number }>`select count(*)::int as n from (
        (select system_id, model_version, source, bucket, severity, component, anomalies::bigint from anomaly_trend_hourly_cagg
         except all select system_id, model_version, source, bucket, severity, component, anomalies from anomaly_trend_hourly)
        union all
        (select system_id, model_version, source, bucket, severity, component, anomalies from anomaly_trend_hourly
         except all select system_id, model_version, source, bucket, severity, component, anomalies::bigint from anomaly_trend_hourly_cagg)) d`.execute(t.database.db);
      expect(diff[0]!.n).toBe(0);
    }
    // The tampered row from the previous test is gone: the rebuilt table came from the log.
    const status = await projectionStatus({ database: t.database, store }, projections);
    for (const s of status.filter((x) => x.known)) expect(s.lagEvents).toBe(0);
    // No shadow or scratch schema left behind.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from information_schema.schemata
      where schema_name like 'rebuild_%' or schema_name like 'verify_%'`.execute(t.database.db);
    expect(rows[0]!.n).toBe(0);
  });
});
