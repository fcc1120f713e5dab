/**
 * Weighted ensemble vote (pure). Per component c with condition list C_c (healthy first):
 *   p_ens = sum_k w_ck p_k / sum_k w_ck over the enabled supervised models k in {rf, xgb, helm, lr}
 *   w_ck = componentWeights[c][k] if given (window mode of versions >= 1.1.0), else weights[k]
 *   (0 when absent); if the enabled models' weights sum to 0 for c, the global weights, then equal
 *   weights, are used
 *   probability (P degraded) = 1 - p_ens[healthy]
 *   degraded = probability >= threshold_c
 *   condition = degraded ? C_c[argmax over the degraded classes of p_ens] : healthy
 * Thresholds: the ensemble thresholds when two or more models are on; a model's own thresholds when
 * it is the only one on (all tuned on training folds, see docs/models.md).
 * The adaptive vote is not tied to a component: it can raise isAnomaly (severity 'low') on its own.
 * score = max(max_c P(degraded), weight_adaptive * adaptive score); confidence = the ensemble
 * probability of the predicted condition of the affected component, or min_c p_ens[healthy] when none.
 */
export const COMPONENTS = ['cooler', 'valve', 'pump', 'accumulator'] as const;
export type ComponentName = (typeof COMPONENTS)[number];
/** Supervised model families. 'lr' (hierarchical logistic regression) exists from hydraulic-17-1.1.0 on, window mode only. */
export const FAMILIES = ['rf', 'xgb', 'helm', 'lr'] as const;
export type Family = (typeof FAMILIES)[number];
export type Severity = 'none' | 'low' | 'medium' | 'high' | 'critical';
const SEVERITY_RANK: Record<Severity, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

export interface ComponentResult {
  condition: number;
  degraded: boolean;
  probability: number;
}

export interface Vote {
  weight: number;
  anomaly: boolean;
  score: number;
}

type ThresholdSet = Record<ComponentName, number>;

export interface EnsembleConfig {
  weights: Record<'rf' | 'xgb' | 'helm' | 'adaptive', number> & { lr?: number };
  /** per component, per family: overrides `weights` for that component (absent = `weights`) */
  componentWeights?: Partial<Record<ComponentName, Partial<Record<Family, number>>>>;
  /** per family and 'ensemble': component -> threshold on P(degraded) */
  thresholds: Record<'rf' | 'xgb' | 'helm' | 'ensemble', ThresholdSet> & { lr?: ThresholdSet };
  components: Record<ComponentName, { conditions: number[]; severity: Record<string, Severity> }>;
}

export type ComponentProbabilities = Record<ComponentName, ArrayLike<number>>;

export interface EnsembleInput {
  probabilities: Partial<Record<Family, ComponentProbabilities>>;
  adaptive?: { anomaly: boolean; score: number } | null;
  /**
   * Baseline-deviation member (the equipment's healthy reference for the window's regime): its P(degraded)
   * takes `weight` of the listed components' P(degraded); null/absent while no reference exists.
   */
  baseline?: { probability: number; weight: number; components: readonly ComponentName[] } | null;
  /** the window's operating conditions are not covered (docs/models.md §3): confidence is halved */
  unfamiliar?: boolean;
}

export interface EnsembleOutput {
  isAnomaly: boolean;
  score: number;
  affectedComponent: ComponentName | null;
  confidence: number;
  severity: Severity;
  components: Record<ComponentName, ComponentResult>;
  votes: Record<string, Vote>;
}

function argmaxFrom(p: ArrayLike<number>, from: number): number {
  let best = from;
  for (let i = from + 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

export function combine(cfg: EnsembleConfig, input: EnsembleInput): EnsembleOutput {
  const on = FAMILIES.filter((f) => input.probabilities[f] !== undefined);
  if (on.length === 0) throw new Error('ensemble: no supervised model is enabled');
  const thr = on.length === 1 ? cfg.thresholds[on[0]] : cfg.thresholds.ensemble;
  if (!thr) throw new Error(`ensemble: no thresholds for ${on[0]}`);
  const globalW = (f: Family) => cfg.weights[f] ?? 0;
  const weightsFor = (c: ComponentName): ((f: Family) => number) => {
    const cw = cfg.componentWeights?.[c];
    const w = cw ? (f: Family) => cw[f] ?? globalW(f) : globalW;
    if (on.reduce((s, f) => s + w(f), 0) > 0) return w;
    return on.reduce((s, f) => s + globalW(f), 0) > 0 ? globalW : () => 1;
  };
  const components = {} as Record<ComponentName, ComponentResult>;
  const pEns = {} as Record<ComponentName, number[]>;
  let affected: ComponentName | null = null;
  let bestMargin = -Infinity;
  let severity: Severity = 'none';
  let maxProb = 0;
  for (const c of COMPONENTS) {
    const K = cfg.components[c].conditions.length;
    const p = new Array<number>(K).fill(0);
    const w = weightsFor(c);
    const wsum = on.reduce((s, f) => s + w(f), 0);
    for (const f of on) {
      const pf = input.probabilities[f]![c];
      if (pf.length !== K) throw new Error(`ensemble: ${f}/${c} has ${pf.length} classes, expected ${K}`);
      for (let k = 0; k < K; k++) p[k] += (w(f) * pf[k]) / wsum;
    }
    pEns[c] = p;
    const bl = input.baseline;
    const supervised = clamp01(1 - p[0]);
    const probability = bl && bl.components.includes(c) ? clamp01((1 - bl.weight) * supervised + bl.weight * bl.probability) : supervised;
    const degraded = probability >= thr[c];
    const cls = degraded ? argmaxFrom(p, 1) : 0;
    const condition = cfg.components[c].conditions[cls];
    components[c] = { condition, degraded, probability };
    maxProb = Math.max(maxProb, probability);
    if (degraded) {
      const sev = cfg.components[c].severity[String(condition)] ?? 'medium';
      if (SEVERITY_RANK[sev] > SEVERITY_RANK[severity]) severity = sev;
      const margin = probability - thr[c];
      if (margin > bestMargin) {
        bestMargin = margin;
        affected = c;
      }
    }
  }
  const votes: Record<string, Vote> = {};
  for (const f of on) {
    let anomaly = false;
    let score = 0;
    const own = cfg.thresholds[f];
    for (const c of COMPONENTS) {
      const pd = clamp01(1 - input.probabilities[f]![c][0]);
      score = Math.max(score, pd);
      if (own && pd >= own[c]) anomaly = true;
    }
    votes[f] = { weight: globalW(f), anomaly, score };
  }
  if (input.baseline) votes.baseline = { weight: input.baseline.weight, anomaly: input.baseline.probability >= 0.5, score: input.baseline.probability };
  const ad = input.adaptive ?? null;
  if (ad) votes.adaptive = { weight: cfg.weights.adaptive, anomaly: ad.anomaly, score: ad.score };
  const supervisedAnomaly = affected !== null;
  const adaptiveAnomaly = ad?.anomaly ?? false;
  if (!supervisedAnomaly && adaptiveAnomaly) severity = 'low';
  let confidence: number;
  if (affected) {
    const p = pEns[affected];
    confidence = clamp01(p[argmaxFrom(p, 1)]);
  } else {
    confidence = clamp01(Math.min(...COMPONENTS.map((c) => pEns[c][0])));
  }
  if (input.unfamiliar) confidence *= 0.5;
  // score: the largest P(degraded), or the adaptive score scaled by its weight if that is larger
  const score = clamp01(Math.max(maxProb, ad ? cfg.weights.adaptive * ad.score : 0));
  return {
    isAnomaly: supervisedAnomaly || adaptiveAnomaly,
    score,
    affectedComponent: affected,
    confidence,
    severity,
    components,
    votes,
  };
}
