/**
 * Loader for a folder in the UCI "Condition monitoring of hydraulic systems" layout (one file per
 * sensor, one row per cycle, tab-separated). Rows of 60 values are 1 Hz; rows of 600 / 6000 values
 * (the original FS / PS,EPS rates) are averaged down to 60 one-second means. Mirrors
 * models/train/hydraulic.py, including the data digest used to recognise the training set.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMPONENTS, type ComponentName } from '../ensemble.js';
import { SECONDS, SENSORS } from '../features/hydraulic-17.js';

export interface UciData {
  dir: string;
  /** per cycle: one Float64Array column per sensor (SENSORS order), 60 values */
  windows: Float64Array[][];
  /** condition values per component (null when the folder has no profile.txt) */
  labels: Record<ComponentName, number[]> | null;
  cycles: number[];
  /** sha256 over the sensor files (SENSORS order) and profile.txt, as train.py's data_digest */
  digest: string;
}

function parseMatrix(text: string, file: string): number[][] {
  const rows = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l, i) =>
      l.split(/\s+/).map((v, j) => {
        const x = Number(v);
        if (!Number.isFinite(x)) throw new Error(`${file}: row ${i + 1}, value ${j + 1} '${v}' is not a number`);
        return x;
      }),
    );
  const widths = new Set(rows.map((r) => r.length));
  if (widths.size > 1) throw new Error(`${file}: rows have different lengths (${[...widths].join(', ')})`);
  return rows;
}

export function loadUci(dir: string): UciData {
  const hash = createHash('sha256');
  const mats = SENSORS.map((s) => {
    const file = path.join(dir, `${s}.txt`);
    if (!existsSync(file)) throw new Error(`missing sensor file ${file}`);
    const buf = readFileSync(file);
    hash.update(buf);
    const m = parseMatrix(buf.toString('utf8'), file);
    const width = m[0]?.length ?? 0;
    if (width % SECONDS !== 0) throw new Error(`${file}: ${width} values per row is not a multiple of ${SECONDS}`);
    const f = width / SECONDS;
    return f === 1 ? m : m.map((r) => Array.from({ length: SECONDS }, (_, s) => { let t = 0; for (let k = 0; k < f; k++) t += r[s * f + k]; return t / f; }));
  });
  const n = mats[0].length;
  mats.forEach((m, j) => {
    if (m.length !== n) throw new Error(`${SENSORS[j]}.txt has ${m.length} rows, ${SENSORS[0]}.txt ${n}`);
  });
  const windows = Array.from({ length: n }, (_, i) => mats.map((m) => Float64Array.from(m[i])));
  let labels: UciData['labels'] = null;
  const prof = path.join(dir, 'profile.txt');
  if (existsSync(prof)) {
    const buf = readFileSync(prof);
    hash.update(buf);
    const P = parseMatrix(buf.toString('utf8'), prof);
    if (P.length !== n) throw new Error(`${prof}: ${P.length} rows for ${n} cycles`);
    labels = Object.fromEntries(COMPONENTS.map((c, k) => [c, P.map((r) => r[k])])) as Record<ComponentName, number[]>;
  }
  const cyc = path.join(dir, 'cycles.txt');
  const cycles = existsSync(cyc) ? parseMatrix(readFileSync(cyc, 'utf8'), cyc).map((r) => r[0]) : Array.from({ length: n }, (_, i) => i + 1);
  return { dir, windows, labels, cycles, digest: hash.digest('hex') };
}
