/**
 * Out-of-fold scores with nested thresholds for any learner: each fold's test rows are scored by a model
 * fitted on the other folds; the fold's threshold comes from an inner CV over those training folds only
 * (in time order, grouped into `innerGroups` contiguous groups, one group left out at a time) and the
 * a-priori rule thresholdAtFpr(maxFpr). Nothing about the test fold reaches its threshold.
 */
import type { Fold } from './folds.js';
import { thresholdAtFpr } from './detection-metrics.js';
import type { Learner, Matrix } from './learners/matrix.js';

export interface CrossValidationOptions {
  x: Matrix;
  degraded: Uint8Array;
  folds: Fold[];
  learner: Learner;
  innerGroups: number;
  maxInnerFpr: number;
  seed: number;
}

export interface CrossValidationResult {
  /** per row: out-of-fold score, NaN where the fold could not be scored */
  score: Float64Array;
  /** per row: its fold's nested threshold */
  threshold: Float64Array;
  folds: Array<{ start: number; end: number; threshold: number | null; skipped?: string }>;
}

const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
const concat = (parts: Int32Array[]) => {
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const bothClasses = (y: Uint8Array, rows: Int32Array) => {
  let pos = 0;
  for (const r of rows) pos += y[r];
  return pos > 0 && pos < rows.length;
};

export function crossValidate(o: CrossValidationOptions): CrossValidationResult {
  const n = o.x.rows;
  const score = new Float64Array(n).fill(Number.NaN);
  const threshold = new Float64Array(n).fill(Number.NaN);
  const folds: CrossValidationResult['folds'] = [];
  o.folds.forEach((f, k) => {
    const trainFolds = o.folds.filter((g) => g !== f);
    const train = concat(trainFolds.map((g) => range(g.start, g.end)));
    if (!bothClasses(o.degraded, train)) {
      folds.push({ start: f.start, end: f.end, threshold: null, skipped: 'the training part lacks healthy or degraded cycles' });
      return;
    }
    const seed = o.seed + 1000 * (k + 1);
    const G = Math.min(o.innerGroups, trainFolds.length);
    const innerScore: number[] = [], innerY: number[] = [];
    for (let g = 0; g < G; g++) {
      // contiguous groups of training folds, as np.array_split over the fold list
      const lo = Math.floor((g * trainFolds.length) / G), hi = Math.floor(((g + 1) * trainFolds.length) / G);
      const innerTest = concat(trainFolds.slice(lo, hi).map((h) => range(h.start, h.end)));
      const innerTrain = concat(trainFolds.filter((_, q) => q < lo || q >= hi).map((h) => range(h.start, h.end)));
      if (!bothClasses(o.degraded, innerTrain)) continue;
      const s = o.learner(o.x, o.degraded, innerTrain, innerTest, seed + 7);
      innerTest.forEach((r, q) => { innerScore.push(s[q]); innerY.push(o.degraded[r]); });
    }
    const t = innerScore.length ? thresholdAtFpr(innerScore, innerY, o.maxInnerFpr) : 0.5;
    const test = range(f.start, f.end);
    const s = o.learner(o.x, o.degraded, train, test, seed);
    test.forEach((r, q) => { score[r] = s[q]; threshold[r] = t; });
    folds.push({ start: f.start, end: f.end, threshold: t });
  });
  return { score, threshold, folds };
}
