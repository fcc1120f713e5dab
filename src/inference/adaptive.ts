/**
 * Adaptive thresholds: per-sensor limits that follow each equipment's own baseline.
 *
 * Pure functions with explicit state (state in, state out) so that replay is deterministic.
 * One channel per scoring mode (window: per-sensor cycle means; sample: raw values).
 * - A channel starts from the manifest's healthy baseline (mean, std per sensor).
 * - Every observation is z-scored against the channel's EWMA mean / variance; a sensor is out of
 *   limits when |z| > k. The vote is an anomaly when at least `minSensors` sensors are out of limits
 *   and the channel has seen `warmup` observations.
 * - During warm-up every observation updates the baseline (with alpha_t = max(alpha, 1/(n+2)), so
 *   the equipment's own level replaces the fleet baseline quickly); afterwards only observations
 *   that are not anomalous update it, so a developing fault is not learned as normal.
 * - Variance never falls below (minStdFraction * baseline std)^2.
 */
import type { BaselineStates } from './baseline/baseline-state.js';

export interface AdaptiveChannelConfig {
  features: readonly string[];
  mean: readonly number[];
  std: readonly number[];
}

export interface AdaptiveConfig {
  alpha: number;
  k: number;
  warmup: number;
  minSensors: number;
  minStdFraction?: number;
  window: AdaptiveChannelConfig;
  sample: AdaptiveChannelConfig;
}

export interface AdaptiveChannelState {
  n: number;
  mean: number[];
  variance: number[];
}

export interface AdaptiveState {
  schemaVersion: 1;
  modelVersion: string;
  window?: AdaptiveChannelState;
  sample?: AdaptiveChannelState;
  /** per operating regime: commissioning or the established healthy reference (versions with `baseline`) */
  baselines?: BaselineStates;
}

export type AdaptiveMode = 'window' | 'sample';

export interface AdaptiveVote {
  anomaly: boolean;
  /** max |z| / (2k), capped at 1: 0.5 = exactly at the limit. */
  score: number;
  maxAbsZ: number;
  outOfLimits: string[];
  warmedUp: boolean;
}

export function initialAdaptiveState(modelVersion: string): AdaptiveState {
  return { schemaVersion: 1, modelVersion };
}

function initialChannel(cfg: AdaptiveChannelConfig): AdaptiveChannelState {
  return { n: 0, mean: [...cfg.mean], variance: cfg.std.map((s) => s * s) };
}

/** Scores one observation (values in cfg[mode].features order) and returns the new state. */
export function adaptiveStep(
  config: AdaptiveConfig,
  state: AdaptiveState,
  mode: AdaptiveMode,
  values: ArrayLike<number>,
): { vote: AdaptiveVote; state: AdaptiveState } {
  const ch = config[mode];
  if (values.length !== ch.features.length) throw new Error(`adaptive ${mode}: expected ${ch.features.length} values, got ${values.length}`);
  const cur = state[mode] ?? initialChannel(ch);
  const minFrac = config.minStdFraction ?? 0.25;
  let maxAbsZ = 0;
  const out: string[] = [];
  for (let i = 0; i < ch.features.length; i++) {
    const z = Math.abs(values[i] - cur.mean[i]) / Math.sqrt(cur.variance[i]);
    if (z > maxAbsZ) maxAbsZ = z;
    if (z > config.k) out.push(ch.features[i]);
  }
  const warmedUp = cur.n >= config.warmup;
  const anomaly = warmedUp && out.length >= config.minSensors;
  let next = cur;
  if (!warmedUp || !anomaly) {
    const a = warmedUp ? config.alpha : Math.max(config.alpha, 1 / (cur.n + 2));
    const mean = new Array<number>(ch.features.length);
    const variance = new Array<number>(ch.features.length);
    for (let i = 0; i < ch.features.length; i++) {
      const d = values[i] - cur.mean[i];
      mean[i] = cur.mean[i] + a * d;
      const floor = (minFrac * ch.std[i]) ** 2;
      variance[i] = Math.max(floor, (1 - a) * (cur.variance[i] + a * d * d));
    }
    next = { n: cur.n + 1, mean, variance };
  } else {
    next = { ...cur, n: cur.n + 1 };
  }
  return {
    vote: { anomaly, score: Math.min(1, maxAbsZ / (2 * config.k)), maxAbsZ, outOfLimits: out, warmedUp },
    state: { ...state, [mode]: next },
  };
}
