/**
 * Read-model query benchmark (not a test): `npm run bench:queries`.
 * The same data on two backends, side by side: a fresh database on the system PostgreSQL (TEST_POSTGRES_URL or
 * postgres://postgres@127.0.0.1:5432/postgres) and one on a private TimescaleDB cluster started here
 * (scripts/timescaledb/cluster.sh, built first when not cached; same server defaults), both created and dropped here.
 * Bulk-loaded with COPY: 10,000,000 sensor values (10 systems x 17 sensors x ~58,800 s at 1 Hz, ~588,000
 * sensor_readings rows, one per sample) and 100,000 anomalies (anomaly_results + the trend read model, written through
 * the projection's own writer so the rollup is real; on TimescaleDB the continuous aggregates are then refreshed, as
 * their policies would have left them). BENCH_SCALE multiplies both; BENCH_BACKENDS=postgres,timescaledb picks.
 * Measures p50/p95 of the trend query (1h over 7 days, 1d over 90 days, by model version), the anomalies list, health,
 * the systems list and a readings range, against a baseline measured in the same run: the same trend computed from
 * the raw anomaly rows with date_bin (no rollup). On TimescaleDB it then runs the compression policy job (CALL run_job)
 * and measures the readings query again on the compressed chunks; it reports the on-disk size of sensor_readings
 * (table + indexes + TOAST, all chunks) before and after. Target: p95 <= 50 ms. Prints a table, writes
 * bench/results/queries-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { projectRoot } from '../../src/config/paths.js';
import { createScratchDatabase } from '../../src/database/scratch-database.js';
import { createDatabase } from '../../src/database/create-database.js';
import type { Database } from '../../src/database/database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { GetAnomaliesHandler } from '../../src/queries/anomalies/get-anomalies.handler.js';
import { GetAnomaliesQuery, getAnomaliesParams } from '../../src/queries/anomalies/get-anomalies.query.js';
import { computeSystemHealth } from '../../src/queries/health/get-system-health.handler.js';
import { ListSystemsHandler } from '../../src/queries/systems/list-systems.handler.js';
import { ListSystemsQuery } from '../../src/queries/systems/list-systems.query.js';
import { GetAnomalyTrendHandler } from '../../src/queries/trend/get-anomaly-trend.handler.js';
import { anomalyTrendQuery, GetAnomalyTrendQuery, resolveTrendParams } from '../../src/queries/trend/get-anomaly-trend.query.js';
import { GetReadingsHandler } from '../../src/queries/readings/get-readings.handler.js';
import { GetReadingsQuery, getReadingsParams } from '../../src/queries/readings/get-readings.query.js';
import { startPrivateCluster, type PrivateCluster } from '../timescaledb/private-cluster.js';
import { ADMIN_URL, load, scaled, SYSTEMS, T0 } from './read-model-workload.js';

const SIZE = scaled(10_000_000, 100_000);
const READINGS = SIZE.readings;
const ANOMALIES = SIZE.anomalies;
const BACKEND_NAMES = (process.env.BENCH_BACKENDS ?? 'postgres,timescaledb').split(',') as ('postgres' | 'timescaledb')[];
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Row {
  query: string;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  iterations: number;
  rows: number;
}

async function measure(name: string, fn: (i: number) => Promise<number>): Promise<Row> {
  for (let i = 0; i < 10; i++) await fn(i); // warm-up: plans, caches
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const t = performance.now();
    rows = await fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { query: name, p50_ms: r(percentile(times, 50)), p95_ms: r(percentile(times, 95)), max_ms: r(times[times.length - 1]!), iterations: ITERATIONS, rows };
}

interface Sizes {
  /** sensor_readings on disk: heap + indexes + TOAST of every chunk (hypertable_size on TimescaleDB). */
  readingsBytes: number;
  readingsBytesCompressed?: number;
}

async function readingsSize(database: Database, timescale: boolean): Promise<number> {
  const { rows } = timescale
    ? await sql<{ n: number }>`select hypertable_size('sensor_readings')::bigint as n`.execute(database.db)
    : await sql<{ n: number }>`select pg_total_relation_size('sensor_readings')::bigint as n`.execute(database.db);
  return Number(rows[0]!.n);
}

/** Loads the data into a fresh database on `adminUrl` and measures every query there. */
async function benchBackend(backend: string, adminUrl: string): Promise<{ results: Row[]; sizes: Sizes; loadSeconds: number }> {
  const scratch = await createScratchDatabase(adminUrl, 'bench_queries');
  const url = new URL(scratch.url);
  const database = await createDatabase({ url: url.toString(), poolSize: 4 });
  try {
    await migrateToLatest(database);
    const timescale = (await database.extensions()).timescaledb;
    if ((backend === 'timescaledb') !== timescale) throw new Error(`${backend}: timescaledb extension ${timescale ? 'present' : 'missing'}`);
    const started = performance.now();
    await load(database, url.toString(), SIZE);
    if (timescale) {
      // The aggregates as their refresh policies would have left them (this history is months old).
      for (const view of ['anomaly_trend_hourly_cagg', 'anomaly_trend_daily_cagg']) {
        await sql.raw(`call refresh_continuous_aggregate('${view}', null, null)`).execute(database.db);
      }
      await sql`analyze`.execute(database.db);
    }
    const loadSeconds = (performance.now() - started) / 1000;
    console.error(`${backend}: loaded in ${loadSeconds.toFixed(1)} s`);
    const trend = new GetAnomalyTrendHandler(database);
    const anomaliesHandler = new GetAnomaliesHandler(database, { scorer: null, close: async () => undefined });
    const systems = new ListSystemsHandler(database);
    const readings = new GetReadingsHandler(database);
    const sys = (i: number) => `bench-${i % SYSTEMS}`;
    const day = (i: number) => T0 + (i % 80) * 86_400_000;
    const trendOf = (i: number, q: Record<string, string>) =>
      trend.execute(new GetAnomalyTrendQuery(sys(i), resolveTrendParams(anomalyTrendQuery.parse(q)))).then((r) => r.buckets.length);
    const readingsRange = (i: number) =>
      readings
        .execute(new GetReadingsQuery(sys(i), getReadingsParams.parse({ sensor_id: 'PS1', from: new Date(T0 + (i % 30) * 60_000).toISOString(), to: new Date(T0 + (i % 30) * 60_000 + 3_600_000).toISOString(), limit: '5000' })))
        .then((r) => r.items.length);

    const results: Row[] = [];
    results.push(
      await measure('trend 1h x 7 days (168 buckets)', (i) =>
        trendOf(i, { bucket: '1h', from: new Date(day(i)).toISOString(), to: new Date(day(i) + 7 * 86_400_000).toISOString() }),
      ),
    );
    results.push(
      await measure('trend 1h x 7 days, model_version=v2', (i) =>
        trendOf(i, { bucket: '1h', model_version: 'v2', from: new Date(day(i)).toISOString(), to: new Date(day(i) + 7 * 86_400_000).toISOString() }),
      ),
    );
    results.push(
      await measure('trend 1d x 90 days', (i) =>
        trendOf(i, { bucket: '1d', from: new Date(T0).toISOString(), to: new Date(T0 + 90 * 86_400_000).toISOString() }),
      ),
    );
    // Baseline: the same 1d x 90-day trend straight from the raw anomaly rows (what the rollup saves).
    results.push(
      await measure('baseline: trend 1d x 90 days from raw anomaly_results (date_bin, no rollup)', async (i) => {
        const { rows } = await sql`
          with series as (select generate_series(timestamptz '2026-01-01', timestamptz '2026-04-01' - interval '1 microsecond', interval '1 day') as bucket),
          agg as (select date_bin(interval '1 day', window_start, timestamptz '2000-01-01') as bucket, severity, coalesce(affected_component, '') as component, count(*)::int as n
                  from anomaly_results where system_id = ${sys(i)} and is_anomaly and window_start >= timestamptz '2026-01-01' and window_start < timestamptz '2026-04-01'
                  group by 1, 2, 3)
          select s.bucket, a.severity, a.component, a.n from series s left join agg a on a.bucket = s.bucket order by 1`.execute(database.db);
        return rows.length;
      }),
    );
    results.push(
      await measure('anomalies list (newest 100, active version)', (i) =>
        anomaliesHandler.execute(new GetAnomaliesQuery(sys(i), getAnomaliesParams.parse({}))).then((r) => r.items.length),
      ),
    );
    results.push(
      await measure('anomalies list, severity=critical, 7 days', (i) =>
        anomaliesHandler
          .execute(new GetAnomaliesQuery(sys(i), getAnomaliesParams.parse({ severity: 'critical', from: new Date(day(i)).toISOString(), to: new Date(day(i) + 7 * 86_400_000).toISOString() })))
          .then((r) => r.items.length),
      ),
    );
    results.push(await measure('health (uncached computation)', (i) => computeSystemHealth(database, sys(i)).then((h) => h?.equipment.length ?? 0)));
    results.push(await measure('systems list', () => systems.execute(new ListSystemsQuery()).then((r) => r.items.length)));
    results.push(await measure('readings: one sensor, 1 hour', readingsRange));

    const sizes: Sizes = { readingsBytes: await readingsSize(database, timescale) };
    if (timescale) {
      // The compression policy as its job runs it: every chunk here is older than its 7 days.
      const { rows } = await sql<{ job_id: number }>`select job_id from timescaledb_information.jobs
        where proc_name = 'policy_compression' and hypertable_name = 'sensor_readings'`.execute(database.db);
      const t = performance.now();
      await sql.raw(`call run_job(${Number(rows[0]!.job_id)})`).execute(database.db);
      console.error(`${backend}: compression job in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      await sql`analyze sensor_readings`.execute(database.db);
      sizes.readingsBytesCompressed = await readingsSize(database, timescale);
      results.push(await measure('readings: one sensor, 1 hour (compressed chunks)', readingsRange));
    }
    return { results, sizes, loadSeconds };
  } finally {
    await database.close();
    await scratch.drop();
  }
}

async function loadAverage(): Promise<string> {
  const { loadavg } = await import('node:os');
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

async function main(): Promise<void> {
  const byBackend: Record<string, Awaited<ReturnType<typeof benchBackend>>> = {};
  const loadBefore = await loadAverage();
  let cluster: PrivateCluster | undefined;
  try {
    for (const backend of BACKEND_NAMES) {
      let adminUrl = ADMIN_URL;
      if (backend === 'timescaledb') {
        cluster = await startPrivateCluster();
        adminUrl = cluster.url;
      }
      byBackend[backend] = await benchBackend(backend, adminUrl);
      await cluster?.stop();
      cluster = undefined;
    }
  } finally {
    await cluster?.stop();
  }
  const loadAfter = await loadAverage();

  const target = 50;
  console.log(`\nRead-model queries: ${READINGS.toLocaleString('en')} sensor values, ${ANOMALIES.toLocaleString('en')} anomalies, ${ITERATIONS} iterations each (target p95 <= ${target} ms); load average ${loadBefore} before, ${loadAfter} after`);
  // The target is for the read-side queries (trend, anomalies, health, systems); baseline and the raw readings
  // range (3,600 rows per call, an existing endpoint) are context.
  const context = (q: string) => q.startsWith('baseline') || q.startsWith('readings');
  const queries = [...new Set(Object.values(byBackend).flatMap((b) => b.results.map((r) => r.query)))];
  const table = queries.map((query) => {
    const row: Record<string, string | number> = { query };
    for (const [backend, { results }] of Object.entries(byBackend)) {
      const r = results.find((x) => x.query === query);
      row[`${backend} p50`] = r ? r.p50_ms : '-';
      row[`${backend} p95`] = r ? r.p95_ms : '-';
    }
    const p95s = Object.values(byBackend).map((b) => b.results.find((x) => x.query === query)?.p95_ms).filter((x): x is number => x !== undefined);
    if (byBackend.postgres && byBackend.timescaledb) {
      const pg = byBackend.postgres.results.find((x) => x.query === query);
      const ts = byBackend.timescaledb.results.find((x) => x.query === query);
      row['ts/pg p95'] = pg && ts ? Number((ts.p95_ms / pg.p95_ms).toFixed(2)) : '-';
    }
    row.ok = context(query) ? 'context' : p95s.every((p) => p <= target) ? 'yes' : 'NO';
    return row;
  });
  console.table(table);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  for (const [backend, { sizes, loadSeconds }] of Object.entries(byBackend)) {
    const compressed = sizes.readingsBytesCompressed;
    console.log(
      `${backend}: sensor_readings ${mb(sizes.readingsBytes)}` +
        (compressed === undefined ? '' : ` -> ${mb(compressed)} compressed (ratio ${(sizes.readingsBytes / compressed).toFixed(1)}x)`) +
        `; load ${loadSeconds.toFixed(1)} s`,
    );
  }
  for (const [backend, { results }] of Object.entries(byBackend)) {
    const baseline = results.find((r) => r.query.startsWith('baseline'))!;
    const rollup = results.find((r) => r.query === 'trend 1d x 90 days')!;
    console.log(`${backend}: trend 1d x 90 days p50 ${rollup.p50_ms} ms vs raw ${baseline.p50_ms} ms (x${(baseline.p50_ms / rollup.p50_ms).toFixed(1)})`);
  }

  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `queries-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { benchmark: 'queries', date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadBefore, loadAfter }, readings: READINGS, anomalies: ANOMALIES, targetP95Ms: target, backends: byBackend },
      null,
      2,
    ),
  );
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
