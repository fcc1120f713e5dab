import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The UCI hydraulic sample the model engineer ships (models/sample, 48 cycles, see its ATTRIBUTION.md). */
export const SAMPLE_DIR = join(process.cwd(), 'models', 'sample');
export const HYDRAULIC_SENSORS = ['PS1', 'PS2', 'PS3', 'PS4', 'PS5', 'PS6', 'EPS1', 'FS1', 'FS2', 'TS1', 'TS2', 'TS3', 'TS4', 'VS1', 'CE', 'CP', 'SE'] as const;

export interface Cycle {
  /** 1-based row in the sample files. */
  row: number;
  profile: { cooler: number; valve: number; pump: number; accumulator: number; stable: number };
  /** values[sensor][second], 60 per sensor (1 Hz). */
  values: Record<string, number[]>;
}

let cache: { rows: Record<string, number[][]>; profile: number[][] } | undefined;

function load(dir = SAMPLE_DIR) {
  if (cache) return cache;
  const read = (f: string) => readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
  cache = { rows: Object.fromEntries(HYDRAULIC_SENSORS.map((s) => [s, read(`${s}.txt`)])), profile: read('profile.txt') };
  return cache;
}

export function cycle(row: number): Cycle {
  const { rows, profile } = load();
  const [cooler, valve, pump, accumulator, stable] = profile[row - 1]!;
  return {
    row,
    profile: { cooler: cooler!, valve: valve!, pump: pump!, accumulator: accumulator!, stable: stable! },
    values: Object.fromEntries(HYDRAULIC_SENSORS.map((s) => [s, rows[s]![row - 1]!])),
  };
}

/** The component a cycle's profile says is degraded (first value of each condition list = healthy), or null. */
export function degradedComponents(c: Cycle): string[] {
  const out: string[] = [];
  if (c.profile.cooler !== 100) out.push('cooler');
  if (c.profile.valve !== 100) out.push('valve');
  if (c.profile.pump !== 0) out.push('pump');
  if (c.profile.accumulator !== 130) out.push('accumulator');
  return out;
}

/** One cycle as 1-Hz long-format ingest rows starting at `startMs` (60 s x 17 sensors = 1,020 rows). */
export function cycleRows(c: Cycle, systemId: string, equipmentId: string, startMs: number) {
  const rows: { system_id: string; equipment_id: string; sensor_id: string; ts: string; v: number }[] = [];
  for (let s = 0; s < 60; s++) {
    const ts = new Date(startMs + s * 1000).toISOString();
    for (const sensor of HYDRAULIC_SENSORS) rows.push({ system_id: systemId, equipment_id: equipmentId, sensor_id: sensor, ts, v: c.values[sensor]![s]! });
  }
  return rows;
}
