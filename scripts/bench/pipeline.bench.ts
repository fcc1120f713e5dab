/**
 * Pipeline benchmark (not a test): `npm run bench:pipeline`.
 * The whole service in this process on a fresh PostgreSQL database with the real ensemble: HTTP ingest of
 * UCI hydraulic cycles (models/sample) as 1-Hz long-format JSON rows from CONCURRENCY clients, paced at
 * BENCH_RATE samples/s (default 5,500: the 5,000 target plus 10 %; `max` = as fast as the clients can send),
 * for BENCH_SECONDS after a BENCH_WARMUP_SECONDS (10) warm-up of the same load on another system that is not
 * measured; then until the saga and every projection have caught up. A sustainable rate is one where the
 * lag stays flat: under an unpaced overload the saga falls behind and the lag only measures the overload.
 * Reports:
 * - sustained ingest rate (samples/s, one sample = 17 sensor values) over the run and end to end
 *   (until the saga and projections are at the head), and the time they needed after the last request;
 * - lag from the ingest response to the anomaly being visible in GET /systems/{id}/anomalies (p50/p99),
 *   measured by polling the query every POLL_MS;
 * - beside it, in the same run, a raw COPY (pg-copy-streams, 2,000-row chunks) of the same readings, as
 *   sensor_readings rows (one per sample), into a copy of that table: the ceiling of writing these rows at
 *   all, and the pipeline's ratio to it.
 * Prints a table and writes bench/results/pipeline-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/load-config.js';
import { projectRoot } from '../../src/config/paths.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/database/scratch-database.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { InferenceSagaService } from '../../src/inference/inference-saga.module.js';
import { EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { createLogger } from '../../src/observability/logger.js';
import { copyBaseline, pacedIngest as pace, percentile, SENSORS, T0, uciRequest } from './uci-ingest-load.js';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
/** Offered load in samples/s ('max': every client sends its next request as soon as the last is answered). */
const RATE = process.env.BENCH_RATE ?? '5500';
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
const EQUIPMENT = Number(process.env.BENCH_EQUIPMENT ?? 8);
const MINUTES_PER_REQUEST = Number(process.env.BENCH_MINUTES_PER_REQUEST ?? 5);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 100);
const TARGET_SAMPLES_PER_S = 5000;
const TARGET_P99_S = 2;
const SYSTEM = 'bench-rig';
const root = projectRoot();

/** Request b: equipment b % EQUIPMENT of `systemId`, the next MINUTES_PER_REQUEST minutes of its timeline. */
function request(b: number, systemId = SYSTEM) {
  return uciRequest(b, { systems: [systemId], equipment: EQUIPMENT, minutesPerRequest: MINUTES_PER_REQUEST });
}

function pacedIngest(start: number, seconds: number, send: (b: number) => Promise<void>): Promise<void> {
  return pace(start, seconds, { rate: RATE, concurrency: CONCURRENCY, minutesPerRequest: MINUTES_PER_REQUEST }, send);
}

function freshDatabase(): Promise<ScratchDatabase> {
  return createScratchDatabase(ADMIN_URL, 'bench_pipeline');
}

async function runPipeline(url: string) {
  const config = loadConfig({
    DATABASE_URL: url,
    MODELS_DIR: join(root, 'models'),
    AUTH: 'off',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_INGEST_PER_MINUTE: '1000000',
    PROJECTION_BATCH_SIZE: process.env.PROJECTION_BATCH_SIZE ?? '500',
    DATABASE_POOL_SIZE: '20',
  });
  const app: NestFastifyApplication = await createApp(config, createLogger('warn'));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${address.port}`;
  if (!app.get(InferenceSagaService).saga) throw new Error('no model loaded (models/manifest.json): the saga is off');

  // Warm-up (not measured): the same paced load on another system until JIT, caches and pools are warm, then
  // until the saga and the projections have processed it.
  await pacedIngest(Date.now(), WARMUP_SECONDS, async (b) => {
    const res = await fetch(`${base}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request(b, `${SYSTEM}-warm-up`).rows) });
    if (res.status !== 200) throw new Error(`warm-up ingest failed: ${res.status}`);
    await res.arrayBuffer();
  });
  const warmHead = await app.get<EventStore>(EVENT_STORE).headPosition();
  await app.get(InferenceSagaService).saga!.waitFor(warmHead!, 600_000);
  await app.get(ProjectionRunner).waitFor(warmHead!, 600_000);

  const acceptedAt = new Map<string, number>(); // `${equipment}/${windowStart}` -> ingest response time
  const lags: number[] = [];
  const seen = new Set<string>();
  const lagTimeline: [number, number][] = []; // (seconds into the run the window was accepted, its lag)
  const pollSeconds: number[] = []; // how long each poll of the anomalies query took: the lag's resolution
  const newestSeen = new Map<string, number>(); // equipment -> newest window start whose anomaly was seen
  let samples = 0;
  let requests = 0;
  const started = Date.now();
  let ingesting = true;
  let oldestOpen = T0; // window start from which the poller reads

  const clients = pacedIngest(started, SECONDS, async (b) => {
    const { rows, windows, equipmentId } = request(b);
    const res = await fetch(`${base}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows) });
    const body = (await res.json()) as { accepted?: number };
    if (res.status !== 200 || body.accepted !== rows.length) throw new Error(`ingest failed: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    const now = Date.now();
    for (const w of windows) acceptedAt.set(`${equipmentId}/${new Date(w).toISOString()}`, now);
    samples += rows.length / SENSORS.length;
    requests++;
  });

  async function poll(): Promise<number> {
    let found = 0;
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ limit: '1000', from: new Date(oldestOpen).toISOString(), ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${base}/api/v1/systems/${SYSTEM}/anomalies?${q}`);
      // 404 until the systems projection has seen the first ingest: nothing to see yet.
      if (res.status === 404) return (await res.arrayBuffer(), found);
      const page = (await res.json()) as { items: { event_id: string; equipment_id: string; window_start: string }[]; next_cursor: string | null };
      const now = Date.now();
      for (const item of page.items) {
        if (seen.has(item.event_id)) continue;
        seen.add(item.event_id);
        found++;
        const start = Date.parse(item.window_start);
        if (start > (newestSeen.get(item.equipment_id) ?? -Infinity)) newestSeen.set(item.equipment_id, start);
        const at = acceptedAt.get(`${item.equipment_id}/${item.window_start}`);
        if (at !== undefined) {
          lags.push((now - at) / 1000);
          lagTimeline.push([(at - started) / 1000, (now - at) / 1000]);
        }
      }
      cursor = page.next_cursor;
    } while (cursor);
    return found;
  }
  let drained = false;
  const poller = (async () => {
    for (;;) {
      // Read from the oldest window that may still be missing. The saga scores an equipment's windows in
      // order and the projection applies its anomalies in log order, so once a window's anomaly is visible,
      // every earlier window of that equipment is decided and visible: only later windows are still open.
      if (ingesting) {
        const open = [...acceptedAt.keys()]
          .map((k) => ({ equipment: k.slice(0, k.indexOf('/')), start: Date.parse(k.slice(k.indexOf('/') + 1)) }))
          .filter((w) => w.start > (newestSeen.get(w.equipment) ?? -Infinity))
          .map((w) => w.start);
        if (open.length) oldestOpen = Math.min(...open);
      }
      const last = drained;
      const t = Date.now();
      await poll();
      pollSeconds.push((Date.now() - t) / 1000);
      if (last) return; // one full poll after saga and projections reached the head
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();

  await clients;
  const ingestSeconds = (Date.now() - started) / 1000;
  ingesting = false;
  // Until the saga and every projection have processed everything (including the saga's own anomalies).
  const store = app.get<EventStore>(EVENT_STORE);
  const head = await store.headPosition();
  const saga = app.get(InferenceSagaService).saga!;
  // Which subscriber needs longest to reach the head of the ingest (diagnostics for tuning).
  const caughtUpAfter: Record<string, number> = {};
  const watcher = (async () => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    for (let i = 0; i < 6000; i++) {
      const { rows } = await db.query<{ name: string; commit_position: string; prepare_position: string }>('select name, commit_position, prepare_position from projection_checkpoints');
      for (const r of rows) {
        if (caughtUpAfter[r.name] === undefined && (Number(r.commit_position) > head!.commit || (Number(r.commit_position) === head!.commit && Number(r.prepare_position) >= head!.prepare))) {
          caughtUpAfter[r.name] = Number(((Date.now() - started) / 1000 - ingestSeconds).toFixed(2));
        }
      }
      if (rows.length > 0 && rows.every((r) => caughtUpAfter[r.name] !== undefined)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await db.end();
  })();
  await saga.waitFor(head!, 600_000);
  const [newest] = await store.readStream(`anomalies-${SYSTEM}`, { direction: 'backwards', limit: 1 });
  await app.get(ProjectionRunner).waitFor(newest?.position ?? head!, 600_000);
  const drainSeconds = (Date.now() - started) / 1000 - ingestSeconds;
  drained = true;
  await poller;
  await watcher;
  await app.close();
  lags.sort((a, b) => a - b);
  pollSeconds.sort((a, b) => a - b);
  return {
    lagTimeline,
    pollP50: percentile(pollSeconds, 50),
    pollMax: pollSeconds[pollSeconds.length - 1] ?? NaN,
    requests,
    samples,
    values: samples * SENSORS.length,
    windows: acceptedAt.size,
    anomaliesSeen: seen.size,
    ingestSeconds,
    drainSeconds,
    samplesPerSecond: samples / ingestSeconds,
    endToEndSamplesPerSecond: samples / (ingestSeconds + drainSeconds),
    lagP50: percentile(lags, 50),
    lagP99: percentile(lags, 99),
    lagMax: lags[lags.length - 1] ?? NaN,
    lagSamples: lags.length,
    caughtUpAfterSeconds: caughtUpAfter,
  };
}

async function main(): Promise<void> {
  const db = await freshDatabase();
  try {
    const p = await runPipeline(db.url);
    const copy = await copyBaseline(db.url, p.requests, { systems: [SYSTEM], equipment: EQUIPMENT, minutesPerRequest: MINUTES_PER_REQUEST });
    const ratio = p.endToEndSamplesPerSecond / copy.samplesPerSecond;
    const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
    const table = [
      ['measure', 'value', 'target'],
      ['ingest rate (samples/s, during ingest)', fmt(p.samplesPerSecond), `>= ${fmt(TARGET_SAMPLES_PER_S)}`],
      ['  = sensor values/s', fmt(p.samplesPerSecond * SENSORS.length), `>= ${fmt(TARGET_SAMPLES_PER_S * 17)}`],
      ['end-to-end rate (samples/s, until saga + projections at head)', fmt(p.endToEndSamplesPerSecond), ''],
      ['saga + projections behind after last request (s)', fmt(p.drainSeconds, 2), ''],
      ['lag ingest -> anomaly in query, p50 (s)', fmt(p.lagP50, 2), ''],
      ['lag ingest -> anomaly in query, p99 (s)', fmt(p.lagP99, 2), `<= ${TARGET_P99_S}`],
      ['lag max (s)', fmt(p.lagMax, 2), ''],
      ['  one poll of the anomalies query, p50 / max (s)', `${fmt(p.pollP50, 2)} / ${fmt(p.pollMax, 2)}`, ''],
      ['raw COPY of the same rows (samples/s)', fmt(copy.samplesPerSecond), 'baseline'],
      ['  = sensor values/s', fmt(copy.valuesPerSecond), ''],
      ['pipeline end-to-end / raw COPY', `${fmt(ratio * 100, 1)} %`, ''],
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...table.map((r) => r[i]!.length)));
    console.log(`\nbench:pipeline on PostgreSQL, ${cpus().length} cores, ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up, offered ${RATE === 'max' ? 'as fast as possible' : `${RATE} samples/s`}, ${CONCURRENCY} clients, ${EQUIPMENT} equipment, ${MINUTES_PER_REQUEST} min/request`);
    console.log(`${p.requests} requests, ${fmt(p.samples)} samples (${fmt(p.values)} values), ${p.windows} windows, ${p.anomaliesSeen} anomalies seen (${p.lagSamples} lag samples)\n`);
    for (const r of table) console.log(`${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2]!}`);
    console.log(`\nseconds after the last ingest response until each subscriber reached the ingest head: ${JSON.stringify(p.caughtUpAfterSeconds)}`);
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          bench: 'pipeline',
          at: new Date().toISOString(),
          machine: { cores: cpus().length, node: process.version },
          settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, offeredSamplesPerSecond: RATE, concurrency: CONCURRENCY, equipment: EQUIPMENT, minutesPerRequest: MINUTES_PER_REQUEST, pollMs: POLL_MS, projectionBatchSize: process.env.PROJECTION_BATCH_SIZE ?? '500' },
          targets: { samplesPerSecond: TARGET_SAMPLES_PER_S, lagP99Seconds: TARGET_P99_S },
          pipeline: p,
          copy,
          ratio,
        },
        null,
        2,
      ),
    );
    console.log(`\nwrote ${file}`);
  } finally {
    await db.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
