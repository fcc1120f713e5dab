/**
 * Scale-out benchmark (not a test): `npm run bench:scale` (issue #19). PostgreSQL only.
 * 1. Pre-loads a log of BENCH_SAMPLES (1,000,000) samples (17 hydraulic sensors each, UCI cycles from models/sample)
 *    over BENCH_SYSTEMS x BENCH_EQUIPMENT (8 x 8) equipment, BENCH_MINUTES_PER_REQUEST (1) minute per ingest
 *    request, as ReadingsIngested events built by the ingest command's own decideIngest and appended through
 *    PostgresEventStore. That database is the template: every measured run starts on a file copy of it (CREATE
 *    DATABASE ... TEMPLATE), i.e. on the same log with empty read models.
 * 2. Raw COPY baseline, in the same run: the same samples as sensor_readings rows COPYed into a copy of the table.
 * 3. Catch-up: 1 and 2 worker processes (`node dist/src/main.js`, ROLE=worker, PARTITIONS=BENCH_PARTITIONS (16))
 *    on a copy, until every checkpoint (saga included) is at the log's head; samples / seconds. BENCH_ROUNDS (2)
 *    rounds in alternating order, medians. Then each partitioned consumer alone (WORKER_CONSUMERS, 1 worker) for
 *    the capacity model (the singleton projections together); the projections run on a log that already holds the
 *    saga's anomalies (the copy the saga-alone run left), as in steady state.
 * 4. End to end: HTTP ingest (4 clients, as fast as answered unless BENCH_E2E_RATE is set; ingest backpressure
 *    off unless BENCH_INGEST_MAX_LAG_SECONDS is set, see endToEnd) for BENCH_E2E_SECONDS (60) after a warm-up,
 *    against ROLE=all (one process) and against ROLE=api + 2 ROLE=worker; then until all caught up: the max rate
 *    with the time to catch up after, and the lag over time.
 * Every process's CPU seconds and the PostgreSQL backends' CPU seconds are read from /proc: samples per CPU second
 * do not depend on what else the shared machine runs. Prints a table and writes bench/results/scale-<date>.json.
 * Other knobs: BENCH_WORKERS (1,2), BENCH_CONSUMERS, BENCH_PARTS (catchup,consumers,e2e), PROJECTION_BATCH_SIZE,
 * BENCH_SERVICE_NODE_ARGS (node options of the service processes, e.g. --cpu-prof).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { decideIngest } from '../../src/commands/ingest-readings/decide-ingest.js';
import { configSchema } from '../../src/config/config.schema.js';
import { projectRoot } from '../../src/config/paths.js';
import { createDatabase } from '../../src/database/create-database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/database/scratch-database.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { INFERENCE_SAGA } from '../../src/inference/inference.saga.js';
import { allProjections } from '../../src/projections/projections.module.js';
import { lagEvents, readProgress, waitCaughtUp, type Progress } from './catch-up-watch.js';
import { DatabaseCpu, machineBusySeconds } from './database-cpu.js';
import { startService, type ServiceProcess } from './service-process.js';
import { copyBaseline, pacedIngest, percentile, uciRequest, type IngestLayout } from './uci-ingest-load.js';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const env = (name: string, fallback: string) => process.env[name]?.trim() || fallback;
const SAMPLES = Number(env('BENCH_SAMPLES', '1000000'));
const SYSTEMS = Number(env('BENCH_SYSTEMS', '8'));
const EQUIPMENT = Number(env('BENCH_EQUIPMENT', '8'));
const MINUTES_PER_REQUEST = Number(env('BENCH_MINUTES_PER_REQUEST', '1'));
const PARTITIONS = Number(env('BENCH_PARTITIONS', '16'));
const ROUNDS = Number(env('BENCH_ROUNDS', '2'));
/** Rounds that also measure each consumer alone (the capacity model's inputs). */
const CONSUMER_ROUNDS = Number(env('BENCH_CONSUMER_ROUNDS', '1'));
const RUN_TIMEOUT_MS = Number(env('BENCH_RUN_TIMEOUT_S', '3600')) * 1000;
const E2E_SECONDS = Number(env('BENCH_E2E_SECONDS', '60'));
const E2E_RATE = env('BENCH_E2E_RATE', 'max');
const E2E_WARMUP_SECONDS = Number(env('BENCH_WARMUP_SECONDS', '10'));
const E2E_WARMUP_RATE = env('BENCH_WARMUP_RATE', '2000');
const CONCURRENCY = Number(env('BENCH_CONCURRENCY', '4'));
/** Which parts run (comma list): catchup, consumers, e2e. */
const PARTS = new Set(env('BENCH_PARTS', 'catchup,consumers,e2e').split(','));
/** The saga and projections that run as P partitions (issue #19); the other projections are one lease each. */
const PARTITIONED = ['inference-saga', 'sensor_readings', 'anomaly_results', 'anomaly_trend'];
const TARGET_RATIO = 1.6;
const root = projectRoot();

/** Whether this build has the partitioned workers (PARTITIONS, WORKER_CONSUMERS); before that only one worker is meaningful. */
const PARTITIONED_WORKERS = 'WORKER_CONSUMERS' in configSchema.def.innerType.shape;
const WORKER_COUNTS = env('BENCH_WORKERS', PARTITIONED_WORKERS ? '1,2' : '1').split(',').map(Number);
/** The singleton projections: one lease each, so each reads the whole log in one process however many workers run. */
const SINGLETONS = allProjections()
  .map((p) => p.name)
  .filter((n) => !PARTITIONED.includes(n));
/** Consumers measured alone (comma list; `a+b` runs a and b together in one worker). */
const CONSUMERS = env('BENCH_CONSUMERS', [...PARTITIONED, SINGLETONS.join('+')].join(',')).split(',');

/** A migrated database with an empty log (the COPY baseline's): where start-up costs are measured. */
let emptyLog: ScratchDatabase | undefined;
const startupCpu = new Map<string, number>();

/**
 * CPU seconds a worker with these consumers spends from spawn until live and a second after (modules, models,
 * claiming its leases) on an empty log: taken off each run's worker CPU, so that CPU per sample is the work's.
 */
async function startupCpuSeconds(consumers: string[] | undefined): Promise<number> {
  const key = consumers?.join(',') ?? 'all';
  if (!startupCpu.has(key)) {
    const p = await start('startup-probe', emptyLog!.url, { ROLE: 'worker', ...(consumers ? { WORKER_CONSUMERS: key } : {}) });
    await new Promise((r) => setTimeout(r, 1000));
    startupCpu.set(key, p.cpuSeconds());
    await stopAll([p]);
  }
  return startupCpu.get(key)!;
}
const created: ScratchDatabase[] = [];
const running = new Set<ServiceProcess>();
const dataDir = mkdtempSync(join(tmpdir(), 'bench-scale-'));

async function scratch(prefix: string, template?: ScratchDatabase): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(ADMIN_URL, prefix, template?.name);
  created.push(db);
  return db;
}

async function drop(db: ScratchDatabase): Promise<void> {
  created.splice(created.indexOf(db), 1);
  await db.drop();
}

function serviceEnv(url: string, extra: Record<string, string>): Record<string, string> {
  return {
    DATABASE_URL: url,
    MODELS_DIR: join(root, 'models'),
    DATA_DIR: dataDir,
    PARTITIONS: String(PARTITIONS),
    RATE_LIMIT_INGEST_PER_MINUTE: '1000000',
    ...(process.env.PROJECTION_BATCH_SIZE ? { PROJECTION_BATCH_SIZE: process.env.PROJECTION_BATCH_SIZE } : {}),
    ...extra,
  };
}

async function start(name: string, url: string, extra: Record<string, string>, waitLive = true): Promise<ServiceProcess> {
  // BENCH_SERVICE_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: where a service process spends its time.
  const p = await startService(name, serviceEnv(url, extra), { nodeArgs: process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean), waitLive, timeoutMs: RUN_TIMEOUT_MS });
  running.add(p);
  return p;
}

async function stopAll(procs: ServiceProcess[]): Promise<void> {
  await Promise.all(procs.map(async (p) => (await p.stop(), running.delete(p))));
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

const layout: IngestLayout = { systems: Array.from({ length: SYSTEMS }, (_, i) => `rig-${i}`), equipment: EQUIPMENT, minutesPerRequest: MINUTES_PER_REQUEST };
const slots = SYSTEMS * EQUIPMENT;
const samplesPerRequest = MINUTES_PER_REQUEST * 60;
const preloadRounds = Math.ceil(SAMPLES / samplesPerRequest / slots);
const preloadRequests = preloadRounds * slots;
const logSamples = preloadRequests * samplesPerRequest;

/** The log: each round appends the next minutes of every equipment, one lane (in order) per system. */
async function preload(db: ScratchDatabase) {
  const database = await createDatabase({ url: db.url, poolSize: SYSTEMS + 2 });
  const client = await connect(db.url);
  try {
    await migrateToLatest(database);
    const store = new PostgresEventStore(database);
    const cpu = new DatabaseCpu(client, db.name);
    await cpu.start();
    const cpu0 = process.cpuUsage();
    const started = Date.now();
    let events = 0;
    for (let r = 0; r < preloadRounds; r++) {
      await Promise.all(
        layout.systems.map(async (_, s) => {
          for (let e = 0; e < EQUIPMENT; e++) {
            const { rows } = uciRequest(r * slots + s * EQUIPMENT + e, layout);
            const batchId = randomUUID();
            const appends = decideIngest(
              { valid: rows.map((row, i) => ({ ...row, row: i })), rejected: [] },
              { batchId, source: 'json', correlationId: batchId, causationId: batchId, actor: 'bench', occurredAt: new Date().toISOString() },
            );
            for (const a of appends) {
              await store.append(a.streamId, a.events, 'any');
              events += a.events.length;
            }
          }
        }),
      );
      await cpu.sample();
      if (r % 50 === 49) console.error(`pre-load: ${((r + 1) * slots * samplesPerRequest).toLocaleString('en')} of ${logSamples.toLocaleString('en')} samples`);
    }
    const seconds = (Date.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu0);
    await sql`analyze`.execute(database.db);
    return {
      samples: logSamples,
      events,
      requests: preloadRequests,
      seconds,
      samplesPerSecond: logSamples / seconds,
      /** This process (building events as decideIngest does, and the store's append) and the database's backends. */
      benchCpuSeconds: (user + system) / 1e6,
      databaseCpuSeconds: cpu.seconds(),
      samplesPerDatabaseCpuSecond: logSamples / cpu.seconds(),
    };
  } finally {
    await client.end();
    await database.close();
  }
}

/** Checkpoint names a run must have written: the partitions of partitioned consumers that hold events, and the others. */
function expectedCheckpoints(consumers: readonly string[] | undefined, occupied: readonly number[]): string[] {
  const names = consumers ?? [INFERENCE_SAGA, ...allProjections().map((p) => p.name)];
  return names.flatMap((n) => (PARTITIONED_WORKERS && PARTITIONS > 1 && PARTITIONED.includes(n) ? occupied.map((i) => `${n}#${i}/${PARTITIONS}`) : [n]));
}

interface CatchUpRun {
  label: string;
  workers: number;
  consumers: string;
  round: number;
  samples: number;
  /**
   * From spawn of the first worker / from its first lease (lease_fences.acquired_at: work starts there; a worker
   * answers /health/live only once it has claimed and started its share), to all done.
   */
  secondsFromSpawn: number;
  secondsFromFirstLease: number;
  startupSeconds: number;
  /** From the first lease taken to the last (a second worker joining, the first releasing its surplus). */
  leaseSpreadSeconds: number;
  leasesTaken: number;
  samplesPerSecond: number;
  samplesPerSecondFromSpawn: number;
  /** Per process, less the CPU a worker needs to start on an empty log (startupCpuSeconds). */
  workerCpuSeconds: number[];
  startupCpuSeconds: number;
  databaseCpuSeconds: number;
  machineBusySeconds: number;
  samplesPerWorkerCpuSecond: number;
  samplesPerDatabaseCpuSecond: number;
  anomaliesAppended: number;
  sensorReadingsRows: number | null;
  checkpoints: number;
  loadBefore: number[];
  loadAfter: number[];
}

async function catchUp(template: ScratchDatabase, workers: number, round: number, occupied: number[], opts: { consumers?: string[]; keep?: boolean } = {}) {
  const label = `${opts.consumers ? opts.consumers.join('+') : 'all consumers'}, ${workers} worker${workers > 1 ? 's' : ''}`;
  console.error(`round ${round}: catch-up, ${label}`);
  const loadBefore = loadavg();
  const db = await scratch('bench_scale_run', template);
  const client = await connect(db.url);
  const procs: ServiceProcess[] = [];
  try {
    const before = await readProgress(client);
    const cpu = new DatabaseCpu(client, db.name);
    await cpu.start();
    const busy0 = await machineBusySeconds();
    const extra: Record<string, string> = { ROLE: 'worker', ...(opts.consumers ? { WORKER_CONSUMERS: opts.consumers.join(',') } : {}) };
    procs.push(...(await Promise.all(Array.from({ length: workers }, (_, i) => start(`worker-${i}`, db.url, extra, false)))));
    const done = await waitCaughtUp(client, expectedCheckpoints(opts.consumers, occupied), {
      timeoutMs: RUN_TIMEOUT_MS,
      onPoll: async () => {
        await cpu.sample();
        for (const p of procs) p.cpuSeconds();
        for (const p of procs) if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode}:\n${p.output()}`);
      },
    });
    const busy = (await machineBusySeconds()) - busy0;
    // CPU spent on the work: without each process's start-up (modules, models, claiming its leases on an empty log).
    const startupCpuSecondsEach = await startupCpuSeconds(opts.consumers);
    const workerCpu = procs.map((p) => Math.max(0, p.cpuSeconds() - startupCpuSecondsEach));
    await stopAll(procs);
    const spawned = Math.min(...procs.map((p) => p.spawnedAt));
    const leases = await client.query<{ first: number | null; last: number | null; n: string }>(
      `select extract(epoch from min(acquired_at)) * 1000 as first, extract(epoch from max(acquired_at)) * 1000 as last, count(*)::text as n
         from lease_fences where acquired_at >= to_timestamp($1 / 1000.0)`,
      [spawned],
    );
    // Before the partitioned workers (no lease_fences rows): from the moment the last worker was live.
    const workStart = leases.rows[0]?.first != null ? Number(leases.rows[0].first) : Math.max(...procs.map((p) => p.liveAt));
    const counts = await client.query<{ anomalies: string; readings: string | null }>(
      `select (select count(*) from events where type = 'AnomalyDetected' and global_position > $1)::text as anomalies,
              (select count(*) from sensor_readings)::text as readings`,
      [before.head?.prepare ?? 0],
    );
    const run: CatchUpRun = {
      label,
      workers,
      consumers: opts.consumers?.join(',') ?? 'all',
      round,
      samples: logSamples,
      secondsFromSpawn: (done.at - spawned) / 1000,
      secondsFromFirstLease: (done.at - workStart) / 1000,
      startupSeconds: (workStart - spawned) / 1000,
      leaseSpreadSeconds: leases.rows[0]?.last != null ? (Number(leases.rows[0].last) - workStart) / 1000 : 0,
      leasesTaken: Number(leases.rows[0]?.n ?? 0),
      samplesPerSecond: logSamples / ((done.at - workStart) / 1000),
      samplesPerSecondFromSpawn: logSamples / ((done.at - spawned) / 1000),
      workerCpuSeconds: workerCpu,
      startupCpuSeconds: startupCpuSecondsEach,
      databaseCpuSeconds: cpu.seconds(),
      machineBusySeconds: busy,
      samplesPerWorkerCpuSecond: logSamples / workerCpu.reduce((a, b) => a + b, 0),
      samplesPerDatabaseCpuSecond: logSamples / cpu.seconds(),
      anomaliesAppended: Number(counts.rows[0]!.anomalies),
      sensorReadingsRows: counts.rows[0]!.readings === null ? null : Number(counts.rows[0]!.readings),
      checkpoints: done.checkpoints.length,
      loadBefore,
      loadAfter: loadavg(),
    };
    console.error(`  ${run.samplesPerSecond.toFixed(0)} samples/s (${run.secondsFromFirstLease.toFixed(1)} s from the first lease, ${run.startupSeconds.toFixed(1)} s after spawn; leases taken over ${run.leaseSpreadSeconds.toFixed(1)} s), worker CPU ${workerCpu.map((c) => c.toFixed(1)).join('+')} s, database CPU ${run.databaseCpuSeconds.toFixed(1)} s`);
    return { run, db };
  } finally {
    await stopAll(procs);
    await client.end();
    if (!opts.keep) await drop(db);
  }
}

interface EndToEndRun {
  mode: string;
  processes: string[];
  requests: number;
  samples: number;
  rejected503: number;
  ingestSeconds: number;
  drainSeconds: number;
  ingestSamplesPerSecond: number;
  endToEndSamplesPerSecond: number;
  requestSecondsP50: number;
  requestSecondsP99: number;
  lagEventsMax: number;
  /** Least-squares slope of the lag (events/s) over the second half of the ingest: ~0 when the lag stays flat. */
  lagSlopeEventsPerSecond: number;
  lagTimeline: [number, number][];
  cpuSeconds: Record<string, number>;
  /** Samples (accepted in the measured phase) per CPU second of each process and of the database's backends. */
  samplesPerCpuSecond: Record<string, number>;
  databaseCpuSeconds: number;
  machineBusySeconds: number;
  loadBefore: number[];
  loadAfter: number[];
}

async function ingest(base: string, rows: unknown[]): Promise<number> {
  let rejected = 0;
  const giveUp = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > giveUp) throw new Error(`ingest refused (503) for 120 s after ${rejected} tries`);
    const res = await fetch(`${base}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows) });
    const text = await res.text();
    if (res.status === 200) {
      const body = JSON.parse(text) as { accepted?: number };
      if (body.accepted !== rows.length) throw new Error(`ingest accepted ${body.accepted} of ${rows.length}: ${text.slice(0, 300)}`);
      return rejected;
    }
    if (res.status !== 503 && res.status !== 429) throw new Error(`ingest failed: ${res.status} ${text.slice(0, 300)}`);
    // Backpressure: nothing was stored; come back when the service says.
    rejected++;
    await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
  }
}

function slope(points: [number, number][]): number {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

async function endToEnd(mode: 'all' | 'api+2 workers'): Promise<EndToEndRun> {
  console.error(`end to end: ${mode}`);
  const loadBefore = loadavg();
  const db = await scratch('bench_scale_e2e');
  const database = await createDatabase({ url: db.url, poolSize: 2 });
  await migrateToLatest(database).finally(() => database.close());
  const client = await connect(db.url);
  const procs: ServiceProcess[] = [];
  try {
    // Backpressure off unless asked for: the clients offer their load and the lag over time is the measure (the max
    // rate with the time to catch up after), whatever the gate's policy. (Also, before main's 52c8d8c a quiet log
    // left an idle partition's stored checkpoint behind and the gate closed for good.)
    const off = { INGEST_MAX_LAG_SECONDS: env('BENCH_INGEST_MAX_LAG_SECONDS', '0') };
    if (mode === 'all') procs.push(await start('all', db.url, { ROLE: 'all', ...off }));
    else procs.push(...(await Promise.all([start('api', db.url, { ROLE: 'api', ...off }), start('worker-0', db.url, { ROLE: 'worker' }), start('worker-1', db.url, { ROLE: 'worker' })])));
    const api = procs[0]!;
    const pacing = { concurrency: CONCURRENCY, minutesPerRequest: MINUTES_PER_REQUEST };
    const warm: IngestLayout = { ...layout, systems: layout.systems.map((s) => `warm-${s}`) };
    await pacedIngest(Date.now(), E2E_WARMUP_SECONDS, { ...pacing, rate: E2E_WARMUP_RATE }, async (b) => void (await ingest(api.base, uciRequest(b, warm).rows)));
    await waitCaughtUp(client, [], { timeoutMs: RUN_TIMEOUT_MS });

    const measured: IngestLayout = { ...layout, systems: layout.systems.map((s) => `e2e-${s}`) };
    const cpu = new DatabaseCpu(client, db.name);
    await cpu.start();
    const busy0 = await machineBusySeconds();
    const cpu0 = Object.fromEntries(procs.map((p) => [p.name, p.cpuSeconds()]));
    const started = Date.now();
    let requests = 0;
    let rejected = 0;
    const requestSeconds: number[] = [];
    const lagTimeline: [number, number][] = [];
    let ingesting = true;
    const sampler = (async () => {
      while (ingesting) {
        const p: Progress = await readProgress(client);
        lagTimeline.push([(p.at - started) / 1000, lagEvents(p)]);
        await cpu.sample();
        for (const x of procs) x.cpuSeconds();
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await pacedIngest(started, E2E_SECONDS, { ...pacing, rate: E2E_RATE }, async (b) => {
      const t = Date.now();
      rejected += await ingest(api.base, uciRequest(b, measured).rows);
      requestSeconds.push((Date.now() - t) / 1000);
      requests++;
    });
    const ingestSeconds = (Date.now() - started) / 1000;
    ingesting = false;
    await sampler;
    const done = await waitCaughtUp(client, [], {
      timeoutMs: RUN_TIMEOUT_MS,
      onPoll: async (p) => {
        lagTimeline.push([(p.at - started) / 1000, lagEvents(p)]);
        await cpu.sample();
        for (const x of procs) x.cpuSeconds();
      },
    });
    const drainSeconds = (done.at - started) / 1000 - ingestSeconds;
    const busy = (await machineBusySeconds()) - busy0;
    const cpuSeconds = Object.fromEntries(procs.map((p) => [p.name, p.cpuSeconds() - cpu0[p.name]!]));
    const samples = requests * samplesPerRequest;
    requestSeconds.sort((a, b) => a - b);
    const secondHalf = lagTimeline.filter(([t]) => t >= ingestSeconds / 2 && t <= ingestSeconds);
    const run: EndToEndRun = {
      mode,
      processes: procs.map((p) => p.name),
      requests,
      samples,
      rejected503: rejected,
      ingestSeconds,
      drainSeconds,
      ingestSamplesPerSecond: samples / ingestSeconds,
      endToEndSamplesPerSecond: samples / (ingestSeconds + drainSeconds),
      requestSecondsP50: percentile(requestSeconds, 50),
      requestSecondsP99: percentile(requestSeconds, 99),
      lagEventsMax: Math.max(0, ...lagTimeline.map(([, l]) => l)),
      lagSlopeEventsPerSecond: slope(secondHalf),
      lagTimeline,
      cpuSeconds,
      samplesPerCpuSecond: Object.fromEntries(Object.entries({ ...cpuSeconds, database: cpu.seconds() }).map(([k, v]) => [k, samples / v])),
      databaseCpuSeconds: cpu.seconds(),
      machineBusySeconds: busy,
      loadBefore,
      loadAfter: loadavg(),
    };
    console.error(`  ingest ${run.ingestSamplesPerSecond.toFixed(0)} samples/s, drain ${drainSeconds.toFixed(1)} s, end to end ${run.endToEndSamplesPerSecond.toFixed(0)} samples/s, ${rejected} x 503`);
    return run;
  } finally {
    await stopAll(procs);
    await client.end();
    await drop(db);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number | null | undefined, d = 0) => (n !== null && n !== undefined && Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

function top(): string {
  try {
    return execFileSync('top', ['-b', '-n1', '-w', '200'], { encoding: 'utf8' }).split('\n').slice(0, 20).join('\n');
  } catch {
    return 'top unavailable';
  }
}

async function main(): Promise<void> {
  const at = new Date().toISOString();
  const loadBefore = loadavg();
  const topBefore = top();
  console.error(`bench:scale: ${cpus().length} cores, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; log of ${logSamples.toLocaleString('en')} samples; partitioned workers in this build: ${PARTITIONED_WORKERS}`);
  const template = await scratch('bench_scale_tpl');
  const loaded = await preload(template);
  console.error(`pre-load: ${loaded.events} events, ${loaded.samples.toLocaleString('en')} samples in ${loaded.seconds.toFixed(1)} s (${loaded.samplesPerSecond.toFixed(0)} samples/s through PostgresEventStore.append)`);
  // Partitions that hold events: a partition with none may never write a checkpoint.
  const tplClient = await connect(template.url);
  const hasKey = (await tplClient.query(`select 1 from information_schema.columns where table_name = 'events' and column_name = 'partition_key'`)).rowCount! > 0;
  const occupied = hasKey
    ? (await tplClient.query<{ p: number }>('select distinct partition_key % $1 as p from events where partition_key is not null order by 1', [PARTITIONS])).rows.map((r) => r.p)
    : [];
  const logBytes = (await tplClient.query<{ size: string }>(`select pg_size_pretty(pg_database_size(current_database())) as size`)).rows[0]!.size;
  await tplClient.end();

  const copyDb = await scratch('bench_scale_copy');
  const copyDatabase = await createDatabase({ url: copyDb.url, poolSize: 2 });
  await migrateToLatest(copyDatabase).finally(() => copyDatabase.close());
  emptyLog = copyDb;
  const copy = await copyBaseline(copyDb.url, preloadRequests, layout);
  console.error(`raw COPY: ${copy.samplesPerSecond.toFixed(0)} samples/s`);

  const catchUps: CatchUpRun[] = [];
  const perConsumer: CatchUpRun[] = [];
  const e2e: EndToEndRun[] = [];
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `scale-${at.replace(/[:.]/g, '-')}.json`);
  // The raw figures so far after every run: a run stopped half-way still leaves what it measured.
  const savePartial = () => writeFileSync(file, JSON.stringify({ bench: 'scale', at, partial: true, machine: { cores: cpus().length, loadBefore }, log: loaded, copy, catchUpRuns: catchUps, perConsumerRuns: perConsumer, endToEnd: e2e }, null, 2));
  const endToEndRuns = async () => {
    e2e.push(await endToEnd('all'));
    savePartial();
    if (PARTITIONED_WORKERS) e2e.push(await endToEnd('api+2 workers'));
    savePartial();
  };
  let withAnomalies: ScratchDatabase | undefined;
  for (let round = 1; round <= ROUNDS; round++) {
    if (PARTS.has('catchup')) {
      const order = round % 2 === 1 ? WORKER_COUNTS : [...WORKER_COUNTS].reverse();
      for (const n of order) {
        catchUps.push((await catchUp(template, n, round, occupied)).run);
        savePartial();
      }
    }
    if (PARTS.has('consumers') && PARTITIONED_WORKERS && round <= CONSUMER_ROUNDS) {
      for (const group of CONSUMERS) {
        const consumer = group.split('+');
        // Every projection reads the log as the service has it in steady state: readings and the saga's anomalies.
        const needsAnomalies = !consumer.includes(INFERENCE_SAGA);
        if (needsAnomalies && !withAnomalies) {
          // The saga alone leaves the log with its anomalies: the input of the anomaly projections.
          const { run, db } = await catchUp(template, 1, round, occupied, { consumers: [INFERENCE_SAGA], keep: true });
          if (!CONSUMERS.includes(INFERENCE_SAGA)) perConsumer.push(run);
          savePartial();
          withAnomalies = db;
        }
        const keep = group === INFERENCE_SAGA && !withAnomalies;
        const { run, db } = await catchUp(needsAnomalies ? withAnomalies! : template, 1, round, occupied, { consumers: consumer, keep });
        if (keep) withAnomalies = db;
        perConsumer.push(run);
        savePartial();
      }
    }
    // After the first round, so that a run cut short for time still has every kind of figure.
    if (round === 1 && PARTS.has('e2e')) await endToEndRuns();
  }
  if (withAnomalies) await drop(withAnomalies);
  if (PARTS.has('e2e') && e2e.length === 0) await endToEndRuns();
  await drop(copyDb);


  // Summary.
  const byWorkers = new Map<number, CatchUpRun[]>();
  for (const r of catchUps) byWorkers.set(r.workers, [...(byWorkers.get(r.workers) ?? []), r]);
  const summary = (runs: CatchUpRun[]) => ({
    samplesPerSecond: median(runs.map((r) => r.samplesPerSecond)),
    samplesPerSecondFromSpawn: median(runs.map((r) => r.samplesPerSecondFromSpawn)),
    startupSeconds: median(runs.map((r) => r.startupSeconds)),
    workerCpuSeconds: median(runs.map((r) => r.workerCpuSeconds.reduce((a, b) => a + b, 0))),
    databaseCpuSeconds: median(runs.map((r) => r.databaseCpuSeconds)),
    samplesPerWorkerCpuSecond: median(runs.map((r) => r.samplesPerWorkerCpuSecond)),
    samplesPerDatabaseCpuSecond: median(runs.map((r) => r.samplesPerDatabaseCpuSecond)),
    runs: runs.length,
  });
  const one = byWorkers.get(1) ? summary(byWorkers.get(1)!) : undefined;
  const two = byWorkers.get(2) ? summary(byWorkers.get(2)!) : undefined;
  const ratio = one && two ? two.samplesPerSecond / one.samplesPerSecond : NaN;
  const consumers = Object.fromEntries([...new Set(perConsumer.map((r) => r.consumers))].map((c) => [c, summary(perConsumer.filter((r) => r.consumers === c))]));
  const loadAfter = loadavg();

  console.log(`\nbench:scale on PostgreSQL 15, ${cpus().length} cores (shared with the database), load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after`);
  console.log(`log: ${logSamples.toLocaleString('en')} samples (${(logSamples * 17).toLocaleString('en')} values) in ${loaded.events.toLocaleString('en')} events over ${SYSTEMS} x ${EQUIPMENT} equipment, ${MINUTES_PER_REQUEST} min/event, ${logBytes}; PARTITIONS=${PARTITIONS} (${occupied.length} hold events); ${ROUNDS} round(s), medians\n`);
  const rows: string[][] = [['measure', 'samples/s (from 1st lease)', 'from spawn', 'spawn to 1st lease s', 'worker CPU s', 'db CPU s', 'samples/worker-CPU-s', 'samples/db-CPU-s', 'vs COPY']];
  rows.push(['pre-load through PostgresEventStore.append', fmt(loaded.samplesPerSecond), '', '', '', fmt(loaded.databaseCpuSeconds, 1), '', fmt(loaded.samplesPerDatabaseCpuSecond), fmt(loaded.samplesPerSecond / copy.samplesPerSecond, 2)]);
  rows.push(['raw COPY of the same rows (baseline)', fmt(copy.samplesPerSecond), '', '', '', '', '', '', '1.00']);
  type Summary = ReturnType<typeof summary>;
  const lines: [string, Summary | undefined][] = [
    ['catch-up, all consumers, 1 worker', one],
    ['catch-up, all consumers, 2 workers', two],
    ...Object.entries(consumers).map(([c, s]): [string, Summary] => [`  ${c} alone, 1 worker`, s]),
  ];
  for (const [label, s] of lines) {
    if (!s) continue;
    rows.push([label, fmt(s.samplesPerSecond), fmt(s.samplesPerSecondFromSpawn), fmt(s.startupSeconds, 1), fmt(s.workerCpuSeconds, 1), fmt(s.databaseCpuSeconds, 1), fmt(s.samplesPerWorkerCpuSecond), fmt(s.samplesPerDatabaseCpuSecond), fmt(s.samplesPerSecond / copy.samplesPerSecond, 2)]);
  }
  printTable(rows);
  if (one && two) console.log(`\n2 workers / 1 worker catch-up: x${ratio.toFixed(2)} (target >= ${TARGET_RATIO}) -> ${ratio >= TARGET_RATIO ? 'meets' : 'MISSES'} the target`);
  if (e2e.length) {
    console.log('');
    const e: string[][] = [['end to end (HTTP ingest)', 'ingest samples/s', 'drain s', 'end-to-end samples/s', '503s', 'lag max (events)', 'lag slope (events/s)', 'CPU s per process', 'db CPU s', 'samples per CPU-s']];
    for (const r of e2e)
      e.push([
        r.mode,
        fmt(r.ingestSamplesPerSecond),
        fmt(r.drainSeconds, 1),
        fmt(r.endToEndSamplesPerSecond),
        fmt(r.rejected503),
        fmt(r.lagEventsMax),
        fmt(r.lagSlopeEventsPerSecond, 1),
        Object.entries(r.cpuSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '),
        fmt(r.databaseCpuSeconds, 1),
        Object.entries(r.samplesPerCpuSecond).map(([k, v]) => `${k} ${fmt(v)}`).join(', '),
      ]);
    printTable(e);
  }
  writeFileSync(
    file,
    JSON.stringify(
      {
        bench: 'scale',
        at,
        machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadBefore, loadAfter, topBefore, topAfter: top() },
        settings: { samples: SAMPLES, systems: SYSTEMS, equipment: EQUIPMENT, minutesPerRequest: MINUTES_PER_REQUEST, partitions: PARTITIONS, rounds: ROUNDS, workerCounts: WORKER_COUNTS, consumers: CONSUMERS, e2eSeconds: E2E_SECONDS, e2eRate: E2E_RATE, warmupSeconds: E2E_WARMUP_SECONDS, warmupRate: E2E_WARMUP_RATE, concurrency: CONCURRENCY, projectionBatchSize: process.env.PROJECTION_BATCH_SIZE ?? 'service default', partitionedWorkers: PARTITIONED_WORKERS },
        log: { ...loaded, size: logBytes, occupiedPartitions: occupied },
        workerStartupCpuSeconds: Object.fromEntries(startupCpu),
        copy,
        catchUp: { oneWorker: one, twoWorkers: two, ratio, targetRatio: TARGET_RATIO, runs: catchUps },
        perConsumer: { summary: consumers, runs: perConsumer },
        endToEnd: e2e,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${file}`);
}

let cleaning: Promise<void> | undefined;
/** Once, whoever asks first (the end of main, its failure, a signal): stop the services, drop every database. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...running].map((p) => p.stop(5_000).catch(() => undefined)));
    for (const db of [...created].reverse()) await db.drop().catch((e: unknown) => console.error(`could not drop ${db.name}: ${String(e)}`));
    rmSync(dataDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the services and dropping the databases`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(cleanup)
  .catch(async (error: unknown) => {
    console.error(error);
    await cleanup();
    process.exit(1);
  });
