/**
 * Per-equipment healthy baseline and the baseline-deviation ensemble member.
 *
 * A reference is the mean and spread of a set of features over healthy windows of one equipment in one
 * operating regime (its commissioning windows and windows operators confirmed healthy). A window's
 * deviation is the RMS of its features' z-scores against that reference (each |z| clipped at 10, so one
 * broken channel cannot dominate), expressed as a ratio to the 95th percentile of the commissioning windows'
 * own deviations (each against the windows before it, from the 11th on): ratio 1 = as unusual as the
 * reference's own 1-in-20 window. Streamed (Welford), so the saga keeps 2 numbers per feature, not windows. The member's
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
  /** 95th percentile of the commissioning windows' own deviations (each against the windows before it) */
  selfDeviationP95: number;
}

export const Z_CLIP = 10;
/** fewer healthy windows than this and no reference is established */
export const MIN_REFERENCE_WINDOWS = 20;
/** a commissioning window's own deviation counts from this many earlier windows on */
const WARM = 10;

/** Commissioning of one regime, streamed: Welford mean / M2 and the windows' own prequential deviations. */
export interface Commissioning {
  n: number;
  mean: number[];
  m2: number[];
  deviations: number[];
}

export function startCommissioning(features: number): Commissioning {
  return { n: 0, mean: new Array<number>(features).fill(0), m2: new Array<number>(features).fill(0), deviations: [] };
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

const stdOf = (c: Commissioning) => c.m2.map((v, j) => floorStd(Math.sqrt(v / Math.max(1, c.n - 1)), c.mean[j]));

/** adds one healthy window (pure: returns the next state) */
export function commission(c: Commissioning, x: ArrayLike<number>): Commissioning {
  const deviations = c.n >= WARM ? [...c.deviations, rmsZ(x, c.mean, stdOf(c))] : c.deviations;
  const n = c.n + 1;
  const mean = c.mean.slice(), m2 = c.m2.slice();
  for (let j = 0; j < mean.length; j++) {
    const d = x[j] - mean[j];
    mean[j] += d / n;
    m2[j] += d * (x[j] - mean[j]);
  }
  return { n, mean, m2, deviations };
}

export function referenceOf(regime: string, features: string[], c: Commissioning): HealthyReference {
  if (c.n < MIN_REFERENCE_WINDOWS) throw new Error(`a healthy reference needs at least ${MIN_REFERENCE_WINDOWS} windows, got ${c.n}`);
  const d = [...c.deviations].sort((a, b) => a - b);
  const p95 = d[Math.min(d.length - 1, Math.ceil(0.95 * d.length) - 1)];
  return { regime, features: [...features], windows: c.n, mean: [...c.mean], std: stdOf(c), selfDeviationP95: p95 > 0 ? p95 : 1e-9 };
}

/** rows: the selected features of each healthy window, in time order (same order as `features`) */
export function buildReference(regime: string, features: string[], rows: ReadonlyArray<ArrayLike<number>>): HealthyReference {
  let c = startCommissioning(features.length);
  for (const r of rows) c = commission(c, r);
  return referenceOf(regime, features, c);
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
