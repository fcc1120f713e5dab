/**
 * The read-model workload of `bench:queries` and `bench:ui`, loaded by COPY into a fresh database: `size.readings`
 * sensor values (10 systems x 17 sensors at 1 Hz, one sensor_readings row per sample) and `size.anomalies` anomalies
 * (anomaly_results + the trend read model, written through the projection's own writer so the rollup is real).
 * BENCH_SCALE multiplies each benchmark's default size.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../../src/database/database.js';
import { componentNames, severities } from '../../src/events/anomaly-detected.event.js';
import { upsertTrendWindows, type TrendWindow } from '../../src/projections/trend-windows.writer.js';
import { copyRows } from './copy-rows.js';

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const scale = Number(process.env.BENCH_SCALE ?? 1);

export interface WorkloadSize {
  readings: number;
  anomalies: number;
}

/** A benchmark's default size times BENCH_SCALE. */
export function scaled(readings: number, anomalies: number): WorkloadSize {
  return { readings: Math.round(readings * scale), anomalies: Math.round(anomalies * scale) };
}
export const SYSTEMS = 10;
export const SENSORS = ['PS1', 'PS2', 'PS3', 'PS4', 'PS5', 'PS6', 'EPS1', 'FS1', 'FS2', 'TS1', 'TS2', 'TS3', 'TS4', 'VS1', 'CE', 'CP', 'SE'];
export const T0 = Date.parse('2026-01-01T00:00:00Z');
export const ANOMALY_SPAN_MS = 90 * 86_400_000; // anomalies spread over 90 days

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** `readings` sensor values as sensor_readings rows: one row per sample of the 17 sensors. */
function* readingRows(readings: number): Generator<string> {
  const perSystem = Math.ceil(readings / SYSTEMS / SENSORS.length);
  const event = randomUUID();
  const units = JSON.stringify(Object.fromEntries(SENSORS.map((sensor) => [sensor, 'bar'])));
  const random = rng(3);
  const noise = () => random() - 0.5;
  for (let s = 0; s < SYSTEMS; s++) {
    for (let i = 0; i < perSystem; i++) {
      const ts = new Date(T0 + i * 1000).toISOString();
      // A slow cycle plus noise, two decimals: as compressible as a real signal, not a repeating pattern.
      const values = JSON.stringify(
        Object.fromEntries(SENSORS.map((sensor, k) => [sensor, Number((10 * (k + 1) + 5 * Math.sin((i + k * 7) / 30) + noise()).toFixed(2))])),
      );
      yield `bench-${s}\teq-1\t${ts}\t${values}\t${units}\t\\N\t${event}\n`;
    }
  }
}

export function anomalies(count: number): TrendWindow[] {
  const random = rng(7);
  const out: TrendWindow[] = [];
  const seen = new Set<string>();
  while (out.length < count) {
    const system = `bench-${Math.floor(random() * SYSTEMS)}`;
    const start = T0 + Math.floor((random() * ANOMALY_SPAN_MS) / 60_000) * 60_000;
    const version = random() < 0.7 ? 'v1' : 'v2';
    const k = `${system}/${version}/${start}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const component = random() < 0.1 ? null : componentNames[Math.floor(random() * 4)]!;
    out.push({
      system_id: system,
      model_version: version,
      source: 'live',
      equipment_id: 'eq-1',
      window_start: new Date(start).toISOString(),
      window_end: new Date(start + 60_000).toISOString(),
      is_anomaly: true,
      severity: severities[1 + Math.floor(random() * 4)]!,
      affected_component: component,
      components: Object.fromEntries(componentNames.map((c) => [c, { condition: 100, degraded: c === component, probability: 0.9 }])),
      score: random(),
      event_id: randomUUID(),
    });
  }
  return out;
}

export async function load(database: Database, url: string, size: WorkloadSize): Promise<void> {
  let t = performance.now();
  await copyRows(url, 'COPY sensor_readings (system_id, equipment_id, ts, sensor_values, units, meta, event_id) FROM STDIN', readingRows(size.readings));
  console.error(`loaded ${size.readings} sensor values by COPY in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  await insertAnomalies(database, anomalies(size.anomalies));
  // The systems read model as its projection would leave it.
  await sql`insert into system_equipment (system_id, equipment_id, first_reading_at, last_reading_at, samples)
    select system_id, equipment_id, min(ts), max(ts), count(distinct ts) from sensor_readings group by 1, 2`.execute(database.db);
  await sql`insert into active_model_versions (profile, model_version, previous_version, promoted_at, event_id)
    values ('hydraulic-17', 'v1', null, now(), ${randomUUID()})`.execute(database.db);
  await sql`analyze`.execute(database.db);
  console.error(`loaded ${size.anomalies} anomalies (anomaly_results + trend read model) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Anomalies as the projections would leave them: trend windows (with the rollup) and anomaly_results. */
export async function insertAnomalies(database: Database, windows: readonly TrendWindow[]): Promise<void> {
  for (let i = 0; i < windows.length; i += 2000) {
    const chunk = windows.slice(i, i + 2000);
    await database.db.transaction().execute(async (trx) => {
      await upsertTrendWindows(trx, 'public', chunk, 'first-wins');
      await sql`
        insert into anomaly_results (event_id, system_id, equipment_id, window_start, window_end, model_version, score, severity,
          affected_component, components, votes, confidence, is_anomaly, source, recorded_at)
        select event_id, system_id, equipment_id, window_start, window_end, model_version, score, severity, affected_component,
          components, '{}'::jsonb, 0.9, true, 'saga', window_end
        from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as x(event_id uuid, system_id text, equipment_id text,
          window_start timestamptz, window_end timestamptz, model_version text, score float8, severity text,
          affected_component text, components jsonb)`.execute(trx);
    });
  }
}
