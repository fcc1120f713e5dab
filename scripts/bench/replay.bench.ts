/**
 * Replay benchmark (not a test): `npm run bench:replay`.
 * A fresh PostgreSQL database (created and dropped here) holds the UCI hydraulic history as ReadingsIngested events
 * (HYDRAULIC_DIR, default ../shared/data/hydraulic: 1,655 cycles x 60 s x 17 sensors; falls back to models/sample
 * repeated). Measures, in samples/s (one sample = one second of all 17 sensors):
 *  - rebuild of `sensor_readings` from position 0 (blue/green, as `projections rebuild`), against reading the log alone;
 *  - re-projection with inference (`models reproject`: saga window assembly, batched ORT calls via scoreWindows,
 *    writes to anomaly_results and the trend model), against the same run scoring window by window (scoreWindow).
 * Target: re-projection >= 20,000 samples/s. Prints a table, writes bench/results/replay-<date>.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../../src/config/paths.js';
import { createScratchDatabase } from '../../src/database/scratch-database.js';
import { createDatabase } from '../../src/database/create-database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import type { Position } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { streams } from '../../src/events/streams.js';
import { SensorReadingsProjection } from '../../src/projections/sensor-readings.projection.js';
import { rebuildProjection } from '../../src/read-side/operations/projection-operations.js';
import { loadScorer } from '../../src/read-side/reprojection/load-scorer.js';
import { reproject, type ReprojectionScorer } from '../../src/read-side/reprojection/reproject.js';
import { cycleEvents, readCycles } from './replay-uci.js';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MODELS_DIR = resolve(process.env.MODELS_DIR ?? join(projectRoot(), 'models'));
const SHARED = resolve(process.env.HYDRAULIC_DIR ?? join(projectRoot(), '..', 'shared', 'data', 'hydraulic'));
const START = Date.parse('2026-01-01T00:00:00Z');

interface Row {
  scenario: string;
  samples: number;
  seconds: number;
  /** CPU seconds of this Node process (the database's CPU not included): a load-independent view on a shared machine. */
  node_cpu_s: number;
  samples_per_s: number;
  values_per_s: number;
  vs_baseline: string;
}

let cpuMark = process.cpuUsage();
function cpuSince(): number {
  const d = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  return (d.user + d.system) / 1e6;
}

function row(scenario: string, samples: number, seconds: number, baseline?: Row): Row {
  const perS = samples / seconds;
  return {
    scenario,
    samples,
    seconds: Math.round(seconds * 100) / 100,
    node_cpu_s: Math.round(cpuSince() * 100) / 100,
    samples_per_s: Math.round(perS),
    values_per_s: Math.round(perS * 17),
    vs_baseline: baseline ? `x${(perS / baseline.samples_per_s).toFixed(2)}` : '',
  };
}

async function main(): Promise<void> {
  const source = existsSync(join(SHARED, 'PS1.txt')) ? SHARED : join(MODELS_DIR, 'sample');
  const cycles = readCycles(source);
  const repeat = source === SHARED ? 1 : Math.ceil(1655 / cycles.length);
  const scratch = await createScratchDatabase(ADMIN_URL, 'bench_replay');
  const url = new URL(scratch.url);
  const database = await createDatabase({ url: url.toString(), poolSize: 4 });
  const scorers: ReprojectionScorer[] = [];
  try {
    await migrateToLatest(database);
    const store = new PostgresEventStore(database);
    const events = cycleEvents(cycles, { systemId: 'rig-1', equipmentId: 'press-1', start: START, repeat });
    for (let i = 0; i < events.length; i += 20) await store.append(streams.readings('rig-1'), events.slice(i, i + 20));
    const samples = cycles.length * repeat * 60;
    console.error(`history: ${events.length} ReadingsIngested events, ${samples} samples from ${source}${repeat > 1 ? ` (x${repeat})` : ''}`);

    const results: Row[] = [];
    cpuSince();
    // Baseline for the rebuild: reading (and parsing) the whole log, nothing written.
    let t = performance.now();
    let after: Position | undefined;
    for (;;) {
      const page = await store.readAll({ after, limit: 50 });
      if (page.length === 0) break;
      after = page[page.length - 1]!.position;
    }
    const readOnly = row('baseline: read the log only (readAll, 50 events/page)', samples, (performance.now() - t) / 1000);
    results.push(readOnly);
    t = performance.now();
    const rebuilt = await rebuildProjection({ database, store, batchSize: 50 }, new SensorReadingsProjection());
    results.push(row(`rebuild sensor_readings (${rebuilt.events} events, blue/green swap)`, samples, (performance.now() - t) / 1000, readOnly));

    // Baseline for re-projection: one model call per window.
    const single = await loadScorer(MODELS_DIR);
    scorers.push(single);
    const sequential: ReprojectionScorer = {
      version: single.version,
      dutyCycleSeconds: single.dutyCycleSeconds,
      sensors: single.sensors,
      scoreWindow: (s, st) => single.scoreWindow(s, st),
    };
    cpuSince();
    const base = await reproject({ database, store, scorer: sequential, flushTimeoutMs: 120_000 });
    const seqRow = row(`baseline: re-projection, one scoreWindow call per window (${base.windows} windows)`, base.samples, base.seconds);
    results.push(seqRow);
    const batched = await loadScorer(MODELS_DIR);
    scorers.push(batched);
    cpuSince();
    const r = await reproject({ database, store, scorer: batched, flushTimeoutMs: 120_000, scoreBatch: 512 });
    results.push(row(`re-projection, batched scoreWindows (512 windows/call; ${r.windows} windows, ${r.anomalies} anomalies)`, r.samples, r.seconds, seqRow));

    const target = 20_000;
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    console.log(`\nReplay on PostgreSQL, ${cpus().length} cores, load average ${load} at the end (target: re-projection >= ${target.toLocaleString('en')} samples/s)`);
    console.table(results);
    const last = results[results.length - 1]!;
    console.log(`re-projection: ${last.samples_per_s.toLocaleString('en')} samples/s -> ${last.samples_per_s >= target ? 'meets' : 'MISSES'} the target`);
    const dir = join(projectRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `replay-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify({ benchmark: 'replay', date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, source, samples, targetSamplesPerSecond: target, results }, null, 2),
    );
    console.log(`wrote ${file}`);
  } finally {
    for (const s of scorers) await s.close?.();
    await database.close();
    await scratch.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
