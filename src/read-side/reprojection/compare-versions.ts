import { componentNames } from '../../events/anomaly-detected.event.js';

/** One scored window of one version, as `models compare` sees it. */
export interface ComparedWindow {
  systemId: string;
  equipmentId: string;
  windowStart: number;
  isAnomaly: boolean;
  affectedComponent: string | null;
  /** Components the version called degraded. */
  degraded: readonly string[];
}

/** Ground truth of one 60-s cycle (UCI profile.txt: cooler %, valve %, pump leakage, accumulator bar, stable flag). */
export interface CycleLabel {
  cooler: number;
  valve: number;
  pump: number;
  accumulator: number;
}

export const HEALTHY: CycleLabel = { cooler: 100, valve: 100, pump: 0, accumulator: 130 };
export const SCOPES = ['any', ...componentNames] as const;
export type Scope = (typeof SCOPES)[number];

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  fpr: number | null;
  recall: number | null;
}

export interface ScopeComparison {
  scope: Scope;
  flaggedByBase: number;
  flaggedByCandidate: number;
  both: number;
  onlyBase: number;
  onlyCandidate: number;
  /** Up to 20 windows flagged by one version only, for a first look. */
  examples: { window: string; flaggedBy: 'base' | 'candidate' }[];
  labels?: { base: Confusion; candidate: Confusion; labelled: number };
}

export interface VersionComparison {
  base: string;
  candidate: string;
  windows: number;
  scopes: ScopeComparison[];
}

export function parseProfile(text: string): CycleLabel[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((line, i) => {
      const v = line.split(/\s+/).map(Number);
      if (v.length < 4 || v.slice(0, 4).some((x) => !Number.isFinite(x))) throw new Error(`labels line ${i + 1}: expected 4-5 numbers, got "${line}"`);
      return { cooler: v[0]!, valve: v[1]!, pump: v[2]!, accumulator: v[3]! };
    });
}

function faulty(label: CycleLabel, scope: Scope): boolean {
  if (scope === 'any') return componentNames.some((c) => label[c] !== HEALTHY[c]);
  return label[scope] !== HEALTHY[scope];
}

function flagged(w: ComparedWindow | undefined, scope: Scope): boolean {
  if (!w || !w.isAnomaly) return false;
  return scope === 'any' || w.affectedComponent === scope || w.degraded.includes(scope);
}

function confusion(c: { tp: number; fp: number; tn: number; fn: number }): Confusion {
  return { ...c, fpr: c.fp + c.tn ? c.fp / (c.fp + c.tn) : null, recall: c.tp + c.fn ? c.tp / (c.tp + c.fn) : null };
}

const key = (w: ComparedWindow) => `${w.systemId}\u0000${w.equipmentId}\u0000${w.windowStart}`;

/**
 * Where two versions disagree, per component and overall: windows flagged by one and not the other. A window one
 * version never scored counts as not flagged by it. With labels (cycle i = [labelsStart + i*cycle, +cycle)),
 * also FPR = FP/(FP+TN) and recall = TP/(TP+FN) of each version over the labelled windows either version scored.
 */
export function compareVersions(
  baseVersion: string,
  candidateVersion: string,
  base: readonly ComparedWindow[],
  candidate: readonly ComparedWindow[],
  labels?: { cycles: readonly CycleLabel[]; start: number; cycleMs: number },
): VersionComparison {
  const b = new Map(base.map((w) => [key(w), w]));
  const c = new Map(candidate.map((w) => [key(w), w]));
  const all = [...new Set([...b.keys(), ...c.keys()])].sort();
  const scopes = SCOPES.map((scope): ScopeComparison => {
    const out: ScopeComparison = { scope, flaggedByBase: 0, flaggedByCandidate: 0, both: 0, onlyBase: 0, onlyCandidate: 0, examples: [] };
    const cb = { tp: 0, fp: 0, tn: 0, fn: 0 };
    const cc = { tp: 0, fp: 0, tn: 0, fn: 0 };
    let labelled = 0;
    for (const k of all) {
      const fb = flagged(b.get(k), scope);
      const fc = flagged(c.get(k), scope);
      if (fb) out.flaggedByBase++;
      if (fc) out.flaggedByCandidate++;
      if (fb && fc) out.both++;
      if (fb !== fc) {
        if (fb) out.onlyBase++;
        else out.onlyCandidate++;
        if (out.examples.length < 20) {
          const w = (b.get(k) ?? c.get(k))!;
          out.examples.push({ window: `${w.systemId}/${w.equipmentId}@${new Date(w.windowStart).toISOString()}`, flaggedBy: fb ? 'base' : 'candidate' });
        }
      }
      if (labels) {
        const w = (b.get(k) ?? c.get(k))!;
        const cycle = Math.floor((w.windowStart - labels.start) / labels.cycleMs);
        const label = cycle >= 0 ? labels.cycles[cycle] : undefined;
        if (!label) continue;
        labelled++;
        const truth = faulty(label, scope);
        for (const [f, m] of [
          [fb, cb],
          [fc, cc],
        ] as const) {
          if (truth && f) m.tp++;
          else if (truth) m.fn++;
          else if (f) m.fp++;
          else m.tn++;
        }
      }
    }
    if (labels) out.labels = { base: confusion(cb), candidate: confusion(cc), labelled };
    return out;
  });
  return { base: baseVersion, candidate: candidateVersion, windows: all.length, scopes };
}
