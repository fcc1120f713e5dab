import { readFileSync } from 'node:fs';

/** UCI "Condition monitoring of hydraulic systems" (CC BY 4.0), as prepared in ../shared/data/hydraulic: 60 values per cycle at 1 Hz. */
export const HYDRAULIC = process.env.HYDRAULIC_DATA ?? '/work/shared/data/hydraulic';
export const SENSORS = ['PS1', 'PS2', 'PS3', 'PS4', 'PS5', 'PS6', 'EPS1', 'FS1', 'FS2', 'TS1', 'TS2', 'TS3', 'TS4', 'VS1', 'CE', 'CP', 'SE'] as const;

const cache = new Map<string, number[][]>();
function sensorCycles(sensor: string): number[][] {
  let rows = cache.get(sensor);
  if (!rows) {
    rows = readFileSync(`${HYDRAULIC}/${sensor}.txt`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    cache.set(sensor, rows);
  }
  return rows;
}

/** One cycle as detect samples: 60 × { ts, values: { sensor: number } } starting at `start` (ms). */
export function cycleSamples(cycle: number, start: number): { ts: string; values: Record<string, number> }[] {
  return Array.from({ length: 60 }, (_, s) => ({
    ts: new Date(start + s * 1000).toISOString(),
    values: Object.fromEntries(SENSORS.map((sensor) => [sensor, sensorCycles(sensor)[cycle]![s]!])),
  }));
}

/** Cycles `first`..`first+count-1` as ingest rows (long format), one cycle per minute from `start`. */
export function cycleRows(first: number, count: number, start: number, system: string, equipment = 'rig') {
  const rows: Record<string, unknown>[] = [];
  for (const sensor of SENSORS)
    for (let c = 0; c < count; c++)
      sensorCycles(sensor)[first + c]!.forEach((v, s) =>
        rows.push({ system_id: system, equipment_id: equipment, sensor_id: sensor, ts: new Date(start + (c * 60 + s) * 1000).toISOString(), v }),
      );
  return rows;
}
