import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/config/paths.js';

/** models/sample: 48 cycles of the UCI hydraulic data set (CC BY 4.0, models/sample/ATTRIBUTION.md). */
export const SAMPLE_DIR = join(projectRoot(), 'models', 'sample');
export const SENSORS = ['PS1', 'PS2', 'PS3', 'PS4', 'PS5', 'PS6', 'EPS1', 'FS1', 'FS2', 'TS1', 'TS2', 'TS3', 'TS4', 'VS1', 'CE', 'CP', 'SE'] as const;
const UNITS: Record<string, string> = { EPS1: 'W', FS1: 'l/min', FS2: 'l/min', TS1: '°C', TS2: '°C', TS3: '°C', TS4: '°C', VS1: 'mm/s', CE: '%', CP: 'kW', SE: '%' };

export interface SampleCycles {
  count: number;
  /** Cycles whose conditions are all healthy (cooler 100 %, valve 100 %, no pump leakage, accumulator 130 bar). */
  healthy: number[];
  faulty: number[];
  /** One cycle as ingest rows (long format), 60 samples at 1 Hz from `startMs`. */
  rows(cycle: number, startMs: number, systemId: string, equipmentId: string): Record<string, unknown>[];
}

export function loadSampleCycles(dir = SAMPLE_DIR): SampleCycles {
  const values = new Map(SENSORS.map((s) => [s, readFileSync(join(dir, `${s}.txt`), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number))]));
  const profile = readFileSync(join(dir, 'profile.txt'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const healthy = profile.flatMap((p, i) => (p[0] === 100 && p[1] === 100 && p[2] === 0 && p[3] === 130 ? [i] : []));
  return {
    count: profile.length,
    healthy,
    faulty: profile.map((_, i) => i).filter((i) => !healthy.includes(i)),
    rows(cycle, startMs, systemId, equipmentId) {
      const rows: Record<string, unknown>[] = [];
      for (const sensor of SENSORS) {
        const v = values.get(sensor)![cycle]!;
        for (let s = 0; s < 60; s++) {
          rows.push({ system_id: systemId, equipment_id: equipmentId, sensor_id: sensor, ts: new Date(startMs + s * 1000).toISOString(), v: v[s], unit: UNITS[sensor] ?? 'bar' });
        }
      }
      return rows;
    },
  };
}
