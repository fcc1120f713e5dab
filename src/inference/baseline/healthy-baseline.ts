/**
 * Per-equipment healthy baseline and the baseline-deviation ensemble member.
 *
 * A reference is the mean and spread of a set of features over healthy windows of one equipment in one
 * operating regime (its commissioning windows and windows operators confirmed healthy). A window's
 * deviation is the RMS of its features' z-scores against that reference (each |z| clipped at 10, so one
 * broken channel cannot dominate), expressed as a ratio to the reference's own 95th-percentile
 * leave-one-out deviation: ratio 1 = as unusual as the reference's own 1-in-20 window. The member's
 * P(degraded) = 1 - 2^(-ratio^2) (0.5 at ratio 1, 0.94 at ratio 2): a fixed, a-priori mapping, so the
 * member needs no labels and no training data. Pure functions: no Nest, no database.
 */

export interface HealthyReference {
  regime: string;
  /** window feature names, in the order of mean / std */
  features: string[];
  windows: number;
  mean: number[];
  std: number[];
  /** the reference windows' own leave-one-out deviation at the 95th percentile */
  selfDeviationP95: number;
}

export const Z_CLIP = 10;
/** fewer healthy windows than this and no reference is established */
export const MIN_REFERENCE_WINDOWS = 20;

function stats(rows: ReadonlyArray<ArrayLike<number>>, F: number) {
  const n = rows.length;
  const mean = new Float64Array(F), m2 = new Float64Array(F);
  for (const r of rows) for (let j = 0; j < F; j++) mean[j] += r[j];
  for (let j = 0; j < F; j++) mean[j] /= n;
  for (const r of rows) for (let j = 0; j < F; j++) { const e = r[j] - mean[j]; m2[j] += e * e; }
  return { mean, m2 };
}

/** std floor: a feature that never moved in the reference must not turn noise into huge z-scores */
const floorStd = (s: number, m: number) => Math.max(s, 1e-3 * Math.abs(m), 1e-9);

function rmsZ(x: ArrayLike<number>, mean: ArrayLike<number>, std: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < mean.length; j++) {
    const z = Math.min(Z_CLIP, Math.abs((x[j] - mean[j]) / std[j]));
    s += z * z;
  }
  return Math.sqrt(s / mean.length);
}

/** rows: the selected features of each healthy window (same order as `features`) */
export function buildReference(regime: string, features: string[], rows: ReadonlyArray<ArrayLike<number>>): HealthyReference {
  const n = rows.length, F = features.length;
  if (n < MIN_REFERENCE_WINDOWS) throw new Error(`a healthy reference needs at least ${MIN_REFERENCE_WINDOWS} windows, got ${n}`);
  const { mean, m2 } = stats(rows, F);
  const std = Array.from(m2, (v, j) => floorStd(Math.sqrt(v / (n - 1)), mean[j]));
  // leave-one-out deviations, exact: mean and variance without row i
  const self: number[] = [];
  const mi = new Float64Array(F), si = new Float64Array(F);
  for (const r of rows) {
    for (let j = 0; j < F; j++) {
      const mu = (mean[j] * n - r[j]) / (n - 1);
      const e = r[j] - mean[j];
      const v = (m2[j] - (e * e * n) / (n - 1)) / (n - 2);
      mi[j] = mu;
      si[j] = floorStd(Math.sqrt(Math.max(v, 0)), mu);
    }
    self.push(rmsZ(r, mi, si));
  }
  self.sort((a, b) => a - b);
  const p95 = self[Math.min(n - 1, Math.ceil(0.95 * n) - 1)];
  return { regime, features: [...features], windows: n, mean: Array.from(mean), std, selfDeviationP95: p95 > 0 ? p95 : 1e-9 };
}

/** deviation ratio of one window (its values of ref.features) */
export function deviationRatio(ref: HealthyReference, x: ArrayLike<number>): number {
  return rmsZ(x, ref.mean, ref.std) / ref.selfDeviationP95;
}

export function baselineProbability(ratio: number): number {
  return 1 - 2 ** -(ratio * ratio);
}

/** the ensemble with the baseline member: a fixed share of the vote when the regime has a reference */
export const BASELINE_WEIGHT = 0.5;

export function withBaseline(pSupervised: number, pBaseline: number | null): number {
  return pBaseline === null ? pSupervised : (1 - BASELINE_WEIGHT) * pSupervised + BASELINE_WEIGHT * pBaseline;
}
