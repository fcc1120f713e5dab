import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/database/database.js';
import type { NewEvent, Position } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { ANOMALY_FEEDBACK_RECORDED } from '../../src/events/anomaly-detected.event.js';
import { newEvent } from '../../src/events/event-registry.js';
import { streams } from '../../src/events/streams.js';
import type { Projection } from '../../src/projections/projection.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { allProjections } from '../../src/projections/projections.module.js';
import { GetReadingsHandler } from '../../src/queries/readings/get-readings.handler.js';
import { GetReadingsQuery, getReadingsParams } from '../../src/queries/readings/get-readings.query.js';
import { GetAnomalyTrendHandler } from '../../src/queries/trend/get-anomaly-trend.handler.js';
import { GetAnomalyTrendQuery, resolveTrendParams } from '../../src/queries/trend/get-anomaly-trend.query.js';
import { rebuildProjection, verifyProjection } from '../../src/read-side/operations/projection-operations.js';
import { createTestDatabase, TIMESCALEDB_ADMIN_URL, TIMESCALEDB_UNAVAILABLE, type TestDatabase } from '../support/test-databases.js';
import { anomalyEvent, readingsEvent, rng } from './workload.js';

/**
 * The TimescaleDB features of migrations 0004/0006 on the private TimescaleDB cluster (docs/timescaledb.md), beside
 * the system PostgreSQL fed the same events: hypertable chunks, compression and retention run by their policy jobs
 * (by hand with CALL run_job: the background scheduler's runs fail on PostgreSQL 15.20), the trend from the
 * real-time continuous aggregates equal to the plain rollup, rebuild and verify on hypertables.
 * Skipped with the reason only on a developer's machine without the build; CI fails instead.
 */
const skip = !TIMESCALEDB_ADMIN_URL && !process.env.CI;
if (skip) console.warn(`SKIPPED TimescaleDB read-model tests: ${TIMESCALEDB_UNAVAILABLE}`);
const describeTs = skip ? describe.skip : describe;

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Whole minutes, a few days back: inside the hourly refresh policy's 30 days. */
const NOW = Math.floor(Date.now() / 60_000) * 60_000;

interface Side {
  t: TestDatabase;
  store: PostgresEventStore;
  runner: ProjectionRunner;
}

async function open(backend: 'postgres' | 'timescaledb'): Promise<Side> {
  const t = await createTestDatabase(backend);
  const store = new PostgresEventStore(t.database, { pollIntervalMs: 20 });
  const runner = new ProjectionRunner(t.database, store, allProjections(), { batchSize: 50 });
  await runner.start();
  return { t, store, runner };
}

async function jobId(db: Kysely<any>, proc: string, relation: string): Promise<number> {
  const { rows } = await sql<{ job_id: number }>`select job_id from timescaledb_information.jobs
    where proc_name = ${proc} and hypertable_name = ${relation}`.execute(db);
  if (!rows[0]) throw new Error(`no ${proc} job on ${relation}`);
  return rows[0].job_id;
}

/** Runs a policy job now, as the scheduler would (CALL cannot take a bind parameter inside a transaction-less call). */
async function runJob(db: Kysely<any>, proc: string, relation: string): Promise<void> {
  await sql.raw(`call run_job(${Number(await jobId(db, proc, relation))})`).execute(db);
}

async function readings(database: Database, systemId: string) {
  const { items } = await new GetReadingsHandler(database).execute(new GetReadingsQuery(systemId, getReadingsParams.parse({ limit: '100000' })));
  return items;
}

async function trend(database: Database, systemId: string, bucket: '1h' | '1d', fromMs: number, toMs: number) {
  const params = resolveTrendParams({ bucket, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() });
  return new GetAnomalyTrendHandler(database).execute(new GetAnomalyTrendQuery(systemId, params));
}

async function chunks(db: Kysely<any>, table: string) {
  const { rows } = await sql<{ range_start: Date; range_end: Date; is_compressed: boolean }>`
    select range_start, range_end, is_compressed from timescaledb_information.chunks
    where hypertable_name = ${table} order by range_start`.execute(db);
  return rows;
}

describeTs('read models on TimescaleDB', () => {
  let ts: Side;
  let pg: Side;
  const projections: Projection[] = allProjections();

  /** Appends the same events to both stores and waits until both projected them. */
  async function appendBoth(stream: string, events: NewEvent[]): Promise<void> {
    const positions: [Side, Position][] = [];
    for (const side of [ts, pg]) positions.push([side, (await side.store.append(stream, events)).position]);
    for (const [side, position] of positions) await side.runner.waitFor(position);
  }

  beforeAll(async () => {
    ts = await open('timescaledb');
    pg = await open('postgres');
  });
  afterAll(async () => {
    for (const side of [ts, pg]) {
      await side?.runner.stop();
      await side?.t.dispose();
    }
  });

  it('makes sensor_readings a hypertable with 1-day chunks, with compression, 5-year retention and refresh policies', async () => {
    const db = ts.t.database.db;
    expect(await ts.t.database.extensions()).toEqual({ timescaledb: true });
    const { rows: version } = await sql<{ v: string }>`select extversion as v from pg_extension where extname = 'timescaledb'`.execute(db);
    expect(version[0]!.v).toBe('2.28.3');
    const dims = await sql<{ t: string; i: string }>`select hypertable_name as t, time_interval::text as i
      from timescaledb_information.dimensions where hypertable_schema = 'public' order by 1`.execute(db);
    expect(dims.rows).toEqual([{ t: 'anomaly_trend_windows', i: '7 days' }, { t: 'sensor_readings', i: '1 day' }]);
    const jobs = await sql<{ proc_name: string; hypertable_name: string; config: Record<string, unknown> }>`
      select proc_name, hypertable_name, config from timescaledb_information.jobs
      where hypertable_name in ('sensor_readings', 'anomaly_trend_hourly_cagg', 'anomaly_trend_daily_cagg') order by 2, 1`.execute(db);
    expect(jobs.rows.map((j) => [j.hypertable_name, j.proc_name, j.config.compress_after ?? j.config.drop_after ?? j.config.start_offset])).toEqual([
      ['anomaly_trend_daily_cagg', 'policy_refresh_continuous_aggregate', '400 days'],
      ['anomaly_trend_hourly_cagg', 'policy_refresh_continuous_aggregate', '30 days'],
      ['sensor_readings', 'policy_compression', '7 days'],
      ['sensor_readings', 'policy_retention', '5 years'],
    ]);
  });

  it('compresses the chunks older than 7 days by the policy job; queries and late re-sends still work on them', async () => {
    const random = rng(5);
    // Two minutes of 1-Hz samples per day, 12 days back: one chunk per day.
    for (let d = 12; d >= 1; d--) {
      await appendBoth(streams.readings('rig-z'), [readingsEvent('rig-z', 'eq-1', NOW - d * DAY, 120, random)]);
    }
    const db = ts.t.database.db;
    const before = await readings(ts.t.database, 'rig-z');
    expect(before).toHaveLength(12 * 120 * 4);
    expect(before).toEqual(await readings(pg.t.database, 'rig-z'));
    expect((await chunks(db, 'sensor_readings')).every((c) => !c.is_compressed)).toBe(true);

    await runJob(db, 'policy_compression', 'sensor_readings');

    const after = await chunks(db, 'sensor_readings');
    expect(after.length).toBeGreaterThanOrEqual(12);
    const horizon = Date.now() - 7 * DAY;
    for (const c of after) expect({ end: c.range_end, compressed: c.is_compressed }).toEqual({ end: c.range_end, compressed: c.range_end.getTime() < horizon });
    expect(after.filter((c) => c.is_compressed).length).toBeGreaterThanOrEqual(4);
    expect(await readings(ts.t.database, 'rig-z')).toEqual(before);

    // A re-send into a compressed day (the projection's upsert) replaces the values there too.
    const old = readingsEvent('rig-z', 'eq-1', NOW - 12 * DAY, 1, random);
    await appendBoth(streams.readings('rig-z'), [old]);
    const resent = await readings(ts.t.database, 'rig-z');
    expect(resent).toEqual(await readings(pg.t.database, 'rig-z'));
    expect(resent).not.toEqual(before);
  });

  it('serves the trend from the real-time continuous aggregates, equal to the plain PostgreSQL rollup', async () => {
    const random = rng(9);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const start = NOW - 3 * DAY + i * 67 * 60_000; // distinct windows over the last 3 days
      const e = anomalyEvent('rig-t', i % 2 ? 'eq-1' : 'eq-2', start, 'v1', random);
      ids.push(e.eventId);
      await appendBoth(streams.anomalies('rig-t'), [e]);
    }
    await appendBoth(streams.anomalies('rig-t'), [
      newEvent(ANOMALY_FEEDBACK_RECORDED, randomUUID(), { anomalyId: ids[3]!, systemId: 'rig-t', verdict: 'false_positive', actor: 'op' }, { correlationId: randomUUID() }),
    ]);
    const same = async () => {
      for (const [bucket, from] of [['1h', NOW - 4 * DAY], ['1d', NOW - 30 * DAY]] as const) {
        const a = await trend(ts.t.database, 'rig-t', bucket, from, NOW + HOUR);
        const b = await trend(pg.t.database, 'rig-t', bucket, from, NOW + HOUR);
        expect([a.backend, b.backend]).toEqual(['timescaledb', 'rollup']);
        expect(a.buckets).toEqual(b.buckets);
        expect(a.buckets.reduce((n, x) => n + x.total, 0)).toBe(60);
      }
    };
    // Nothing materialised yet: all of it comes from the real-time part.
    await same();
    // The refresh policies materialise up to an hour (hourly) / a day (daily) ago; the answer does not change.
    await runJob(ts.t.database.db, 'policy_refresh_continuous_aggregate', 'anomaly_trend_hourly_cagg');
    await runJob(ts.t.database.db, 'policy_refresh_continuous_aggregate', 'anomaly_trend_daily_cagg');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from timescaledb_information.chunks where hypertable_name in
      (select materialization_hypertable_name from timescaledb_information.continuous_aggregates)`.execute(ts.t.database.db);
    expect(rows[0]!.n).toBeGreaterThan(0);
    await same();
    // A new anomaly after the refresh shows at once (real time), before any further refresh.
    const late = anomalyEvent('rig-t', 'eq-1', NOW - 10 * 60_000, 'v1', random);
    await appendBoth(streams.anomalies('rig-t'), [late]);
    const a = await trend(ts.t.database, 'rig-t', '1h', NOW - 4 * DAY, NOW + HOUR);
    expect(a.buckets.reduce((n, x) => n + x.total, 0)).toBe(61);
    expect(a.buckets).toEqual((await trend(pg.t.database, 'rig-t', '1h', NOW - 4 * DAY, NOW + HOUR)).buckets);
  });

  it('rebuilds and verifies projections on hypertables (compressed chunks, materialised aggregates included)', async () => {
    const db = ts.t.database.db;
    const ctx = { database: ts.t.database, store: ts.store, batchSize: 40 };
    for (const projection of projections) expect({ name: projection.name, equal: (await verifyProjection(ctx, projection)).equal }).toEqual({ name: projection.name, equal: true });

    // A live trend row lost after the aggregates were materialised: verify sees it, the materialised trend lacks it.
    await sql`delete from anomaly_trend_windows where ctid = (select ctid from anomaly_trend_windows where system_id = 'rig-t'
      and window_start < ${new Date(NOW - DAY)} limit 1)`.execute(db);
    await sql.raw(`call refresh_continuous_aggregate('anomaly_trend_hourly_cagg', null, null)`).execute(db);
    await sql.raw(`call refresh_continuous_aggregate('anomaly_trend_daily_cagg', null, null)`).execute(db);
    const trendProjection = projections.find((p) => p.name === 'anomaly_trend')!;
    expect((await verifyProjection(ctx, trendProjection)).equal).toBe(false);
    const expected = (await trend(pg.t.database, 'rig-t', '1d', NOW - 30 * DAY, NOW + HOUR)).buckets;
    expect((await trend(ts.t.database, 'rig-t', '1d', NOW - 30 * DAY, NOW + HOUR)).buckets).not.toEqual(expected);

    for (const projection of projections) {
      const result = await rebuildProjection(ctx, projection);
      for (const [table, how] of Object.entries(result.swap)) expect([table, how]).toEqual([table, ['sensor_readings', 'anomaly_trend_windows'].includes(table) ? 'copy' : 'rename']);
    }
    for (const projection of projections) expect({ name: projection.name, equal: (await verifyProjection(ctx, projection)).equal }).toEqual({ name: projection.name, equal: true });
    // The rebuild refreshed the aggregates over the refilled hypertable: the trend is right again at once.
    for (const bucket of ['1h', '1d'] as const) {
      const from = NOW - (bucket === '1h' ? 4 : 30) * DAY;
      expect((await trend(ts.t.database, 'rig-t', bucket, from, NOW + HOUR)).buckets).toEqual((await trend(pg.t.database, 'rig-t', bucket, from, NOW + HOUR)).buckets);
    }
    expect(await readings(ts.t.database, 'rig-z')).toEqual(await readings(pg.t.database, 'rig-z'));
    const { rows: ht } = await sql<{ n: number }>`select count(*)::int as n from timescaledb_information.hypertables where hypertable_schema = 'public'`.execute(db);
    expect(ht[0]!.n).toBe(2);
  });

  it('drops the chunks older than 5 years by the retention job, and nothing newer', async () => {
    const random = rng(11);
    const fiveYears = Date.now() - 5 * 365.25 * DAY;
    await appendBoth(streams.readings('rig-r'), [
      readingsEvent('rig-r', 'eq-1', fiveYears - 3 * DAY, 10, random),
      readingsEvent('rig-r', 'eq-1', fiveYears + 3 * DAY, 10, random),
    ]);
    const db = ts.t.database.db;
    const count = async () => (await readings(ts.t.database, 'rig-r')).length;
    expect(await count()).toBe(2 * 10 * 4);
    const totalBefore = (await readings(ts.t.database, 'rig-z')).length;

    await runJob(db, 'policy_retention', 'sensor_readings');

    const kept = await readings(ts.t.database, 'rig-r');
    expect(kept).toHaveLength(10 * 4);
    expect(kept.every((r) => Date.parse(r.ts) >= fiveYears)).toBe(true);
    expect((await readings(ts.t.database, 'rig-z')).length).toBe(totalBefore);
    const { rows } = await sql<{ oldest: Date }>`select min(range_start) as oldest from timescaledb_information.chunks
      where hypertable_name = 'sensor_readings'`.execute(db);
    expect(rows[0]!.oldest.getTime()).toBeGreaterThan(fiveYears - DAY);
  });
});
