/** Test helpers (used by the *.spec.ts files only). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const MODELS_DIR = path.resolve(process.env.MODELS_DIR ?? 'models');

export interface WindowVector {
  cycleIndex: number;
  labels: Record<string, number>;
  window: number[][]; // 60 rows x 17 sensors
  features: number[];
  probabilities: Record<'rf' | 'xgb' | 'helm', Record<string, number[]>>;
}
export interface SampleVector {
  cycleIndex: number;
  second: number;
  values: number[];
  features: number[];
  probabilities: Record<'rf' | 'xgb' | 'helm', Record<string, number[]>>;
}

export function loadVectors<T>(name: 'window' | 'sample'): { featureNames: string[]; sensors: string[]; version: string; cases: T[] } {
  return JSON.parse(readFileSync(path.join(MODELS_DIR, 'test-vectors', `hydraulic-17-${name}.json`), 'utf8'));
}

/** rows x sensors -> one column per sensor */
export function toColumns(rows: number[][]): Float64Array[] {
  const cols = rows[0].map(() => new Float64Array(rows.length));
  rows.forEach((r, i) => r.forEach((v, j) => (cols[j][i] = v)));
  return cols;
}
