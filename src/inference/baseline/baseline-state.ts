/**
 * Per-equipment healthy baselines as the saga threads them through an equipment's windows (inside the
 * detector's per-equipment state): per operating regime, the first `commissioningWindows` windows are the
 * commissioning period (assumed healthy, streamed into a Commissioning); then the reference is established
 * (returned once as `established`, which the saga records as BaselineEstablished) and every later window of
 * the regime gets the baseline member's P(degraded). Pure: same windows in the same order, same references.
 */
import type { ComponentName } from '../ensemble.js';
import { baselineProbability, commission, deviationRatio, referenceOf, startCommissioning, type Commissioning, type HealthyReference } from './healthy-baseline.js';

export interface BaselineSpec {
  features: string[];
  commissioningWindows: number;
  /** share of the vote of the components below once a reference exists */
  weight: number;
  components: ComponentName[];
}

export interface RegimeBaseline {
  commissioning?: Commissioning;
  reference?: HealthyReference;
}

export type BaselineStates = Record<string, RegimeBaseline>;

export interface BaselineStepResult {
  states: BaselineStates;
  /** the member's P(degraded); null while the regime is commissioning */
  probability: number | null;
  /** the reference established by this window, if any */
  established: HealthyReference | null;
}

export function baselineStep(spec: BaselineSpec, states: BaselineStates | undefined, regime: string, x: ArrayLike<number>): BaselineStepResult {
  const all = states ?? {};
  const cur = all[regime] ?? {};
  if (cur.reference) return { states: all, probability: baselineProbability(deviationRatio(cur.reference, x)), established: null };
  const c = commission(cur.commissioning ?? startCommissioning(spec.features.length), x);
  if (c.n >= spec.commissioningWindows) {
    const reference = referenceOf(regime, spec.features, c);
    return { states: { ...all, [regime]: { reference } }, probability: null, established: reference };
  }
  return { states: { ...all, [regime]: { commissioning: c } }, probability: null, established: null };
}
