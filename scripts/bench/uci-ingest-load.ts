/**
 * The ingest load of bench:pipeline and bench:scale: UCI hydraulic cycles (models/sample) as 1-Hz long-format
 * JSON rows, one request per (system, equipment) and MINUTES_PER_REQUEST minutes, sent by paced HTTP clients;
 * and the same readings as sensor_readings rows for the raw COPY baseline.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../src/config/paths.js';
import { SENSORS } from '../../src/inference/features/hydraulic-17.js';
import { copyRows } from './copy-rows.js';

export { SENSORS };
export const T0 = Date.parse('2026-06-01T00:00:00.000Z');

const sample = (() => {
  const dir = join(projectRoot(), 'models', 'sample');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
  return Object.fromEntries(SENSORS.map((s) => [s, read(`${s}.txt`)])) as Record<string, number[][]>;
})();
const CYCLES = sample.PS1!.length;

export interface Row {
  system_id: string;
  equipment_id: string;
  sensor_id: string;
  ts: string;
  v: number;
}

/** Which equipment the requests cycle through and how many minutes each request carries. */
export interface IngestLayout {
  systems: readonly string[];
  /** Equipment per system (`eq-0` ...). */
  equipment: number;
  minutesPerRequest: number;
}

export interface IngestRequest {
  rows: Row[];
  /** Start of each minute (one window of the saga) in the request. */
  windows: number[];
  systemId: string;
  equipmentId: string;
}

/**
 * Request b: slot b % (systems x equipment), i.e. system floor(slot / equipment) and equipment slot % equipment,
 * and the next minutesPerRequest minutes of that equipment's timeline (one UCI cycle each).
 */
export function uciRequest(b: number, layout: IngestLayout): IngestRequest {
  const slots = layout.systems.length * layout.equipment;
  const slot = b % slots;
  const systemId = layout.systems[Math.floor(slot / layout.equipment)]!;
  const equipmentId = `eq-${slot % layout.equipment}`;
  const block = Math.floor(b / slots);
  const rows: Row[] = [];
  const windows: number[] = [];
  for (let m = 0; m < layout.minutesPerRequest; m++) {
    const minute = block * layout.minutesPerRequest + m;
    const start = T0 + minute * 60_000;
    const cycle = (b * 7 + m) % CYCLES;
    windows.push(start);
    for (let s = 0; s < 60; s++) {
      const ts = new Date(start + s * 1000).toISOString();
      for (const sensor of SENSORS) rows.push({ system_id: systemId, equipment_id: equipmentId, sensor_id: sensor, ts, v: sample[sensor]![cycle]![s]! });
    }
  }
  return { rows, windows, systemId, equipmentId };
}

export interface Pacing {
  /** Offered load in samples/s ('max': every client sends its next request as soon as the last is answered). */
  rate: string;
  concurrency: number;
  minutesPerRequest: number;
}

/**
 * `pacing.concurrency` clients send requests 0, 1, 2, ... for `seconds` from `start`. Paced at `pacing.rate`:
 * request b is due at start + b x interval (a client that falls behind sends at once).
 */
export async function pacedIngest(start: number, seconds: number, pacing: Pacing, send: (b: number) => Promise<void>): Promise<void> {
  const interval = pacing.rate === 'max' ? 0 : ((pacing.minutesPerRequest * 60) / Number(pacing.rate)) * 1000;
  const stopAt = start + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: pacing.concurrency }, async () => {
      for (;;) {
        const b = next++;
        const due = start + b * interval;
        if (Math.max(due, Date.now()) >= stopAt) break;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        await send(b);
      }
    }),
  );
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Raw COPY baseline: the readings of requests 0 .. requests-1 as sensor_readings rows (one per sample,
 * migrations/0006), COPYed in 2,000-row chunks into sensor_readings_copy (a copy of that table, created here): the
 * ceiling of writing these rows at all.
 */
export async function copyBaseline(url: string, requests: number, layout: IngestLayout) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE sensor_readings_copy (LIKE sensor_readings INCLUDING ALL)');
  } finally {
    await client.end();
  }
  const eventId = randomUUID();
  let values = 0;
  let samples = 0;
  function* lines(): Generator<string> {
    for (let b = 0; b < requests; b++) {
      const perSample = new Map<string, { system_id: string; equipment_id: string; ts: string; values: Record<string, number> }>();
      for (const r of uciRequest(b, layout).rows) {
        const key = `${r.system_id}\u0000${r.equipment_id}\u0000${r.ts}`;
        let s = perSample.get(key);
        if (!s) perSample.set(key, (s = { system_id: r.system_id, equipment_id: r.equipment_id, ts: r.ts, values: {} }));
        s.values[r.sensor_id] = r.v;
        values++;
      }
      // JSON of plain sensor ids and numbers holds nothing COPY's text format would need escaped.
      for (const x of perSample.values()) {
        samples++;
        yield `${x.system_id}\t${x.equipment_id}\t${x.ts}\t${JSON.stringify(x.values)}\t\\N\t\\N\t${eventId}\n`;
      }
    }
  }
  const started = Date.now();
  await copyRows(url, 'COPY sensor_readings_copy (system_id, equipment_id, ts, sensor_values, units, meta, event_id) FROM STDIN', lines());
  const seconds = (Date.now() - started) / 1000;
  return { rows: samples, seconds, valuesPerSecond: values / seconds, samplesPerSecond: samples / seconds };
}
