/**
 * Detection under two cross-validation protocols, each row beside the cycle-index leakage control.
 *
 * - block: 10 contiguous blocks (train.py's CV); today's ensemble is scored by the version's fold models.
 * - stretch: per component, every maximal run of constant (cooler, component) condition held out once.
 * Every learner fitted here gets nested thresholds (crossValidate). The control is the same learner
 * (extremely randomised trees) given only the cycle index: where it scores well, the protocol rewards
 * knowing where in the schedule a cycle sits, and the table is labelled as measuring the schedule.
 *
 * The baseline-deviation member is scored as a new rig would meet it: the healthy reference of a held-out
 * fold comes only from cycles of the same operating regime that precede the fold and are healthy for the
 * component (the first COMMISSIONING_WINDOWS of them, as the saga's commissioning), never from the fold. "Unfamiliar": the fold's training part does not cover the
 * window's operating conditions (coverage below the limit) and its regime has no healthy reference.
 */
import { readFileSync } from 'node:fs';
import { AnomalyDetector } from '../anomaly-detector.js';
import { buildReference, baselineProbability, deviationRatio, MIN_REFERENCE_WINDOWS, withBaseline, type HealthyReference } from '../baseline/healthy-baseline.js';
import { coverageOf, estimateRegime, nearestDistance, selfDistances, standardise, type RegimeSpec } from '../baseline/operating-conditions.js';
import { COMPONENTS, FAMILIES, combine, type ComponentName, type Family } from '../ensemble.js';
import { WINDOW_FEATURE_NAMES, windowFeatures } from '../features/hydraulic-17.js';
import type { ManifestVersion, Probabilities } from '../registry.js';
import { crossValidate } from './cross-validate.js';
import { recallAtFpr, rocAuc, thresholded, thresholdAtFpr, type ThresholdedFigures } from './detection-metrics.js';
import { assertCycleOrder, blockFolds, stretchFolds, type Fold, type Protocol } from './folds.js';
import { extraTrees } from './learners/extra-trees.js';
import { columnMatrix, type Learner, type Matrix } from './learners/matrix.js';
import type { UciData } from './uci-data.js';

/** a protocol whose control reaches this ROC AUC is labelled as measuring the schedule (fixed a priori) */
export const SCHEDULE_AUC = 0.7;
export const MAX_INNER_FPR = 0.02;
export const INNER_GROUPS = 3;
/** the baseline reference: the first this many healthy cycles of the regime before the fold (commissioning) */
export const COMMISSIONING_WINDOWS = 50;
/** operating conditions: regime features and coverage features; unfamiliar below MIN_COVERAGE */
export const REGIME_FEATURES = ['CE.mean', 'CP.mean'];
export const COVERAGE_FEATURES = ['CE.mean', 'CP.mean', 'TS1.mean', 'TS2.mean', 'TS3.mean', 'TS4.mean', 'PS1.mean', 'EPS1.mean', 'FS1.mean'];
export const MIN_COVERAGE = 0.01;
/** the switching-transient features (lr's): where accumulator pre-charge shows */
export const BASELINE_FEATURES = WINDOW_FEATURE_NAMES.filter((n) => n.includes('.t') && !n.startsWith('TS'));

export interface RowFigures extends ThresholdedFigures {
  model: string;
  auc: number | null;
  /** diagnostic: recall at FPR <= 2 % with the threshold read off the pooled out-of-fold scores */
  recallAtFpr2Ceiling: number | null;
  foldsSkipped: number;
  note?: string;
}

export interface ComponentProtocolReport {
  component: ComponentName;
  folds: number;
  rows: RowFigures[];
  controlAuc: number | null;
  measuresSchedule: boolean;
  /** best real model's AUC minus the control's */
  margin: number | null;
  unfamiliar?: { model: string; errors: number; flagged: number; share: number | null; flaggedRows: number; scoredRows: number };
}

export interface ProtocolReport {
  protocol: Protocol;
  detail: string;
  components: ComponentProtocolReport[];
}

export interface EnsembleOof {
  recipe: string;
  components: Partial<Record<ComponentName, Record<'model' | 'control', { pDegraded: Array<number | null>; folds: Array<{ stretch: [number, number]; threshold?: number; skipped?: string }> }>>>;
}

export interface ProtocolOptions {
  data: UciData;
  version: ManifestVersion;
  modelsDir: string;
  protocols: Protocol[];
  components?: ComponentName[];
  trees?: number;
  blocks?: number;
  /** stretch rows of today's ensemble recipe (models/train/stretch_cv.py output) */
  ensembleOof?: string;
  seed?: number;
  log?: (l: string) => void;
}

const HEALTHY_INDEX = 0;

function foldsOf(protocol: Protocol, data: UciData, c: ComponentName, blocks: number): Fold[] {
  return protocol === 'block' ? blockFolds(data.windows.length, blocks) : stretchFolds(data.labels!, c);
}

function figures(model: string, score: Float64Array, threshold: Float64Array, cond: ArrayLike<number>, healthy: number, skipped: number, note?: string): RowFigures {
  const deg = Uint8Array.from(cond as ArrayLike<number>, (v) => (v === healthy ? 0 : 1));
  return { model, auc: rocAuc(score, deg), recallAtFpr2Ceiling: recallAtFpr(score, deg, 0.02), foldsSkipped: skipped, ...thresholded(score, threshold, cond, healthy), ...(note ? { note } : {}) };
}

/** today's ensemble under block CV: P(degraded) from each fold's own models, the fold's nested threshold */
async function blockEnsemble(o: ProtocolOptions, features: Float64Array[]): Promise<Record<ComponentName, { score: Float64Array; threshold: Float64Array }> | null> {
  const v = o.version;
  const trainingDigest = (v.training as { dataSha256?: string } | undefined)?.dataSha256;
  if (!v.cv || trainingDigest !== o.data.digest) return null;
  const n = features.length, F = WINDOW_FEATURE_NAMES.length;
  const out = Object.fromEntries(COMPONENTS.map((c) => [c, { score: new Float64Array(n).fill(Number.NaN), threshold: new Float64Array(n).fill(Number.NaN) }])) as Record<ComponentName, { score: Float64Array; threshold: Float64Array }>;
  for (const f of v.cv.folds) {
    const file = (name: string) => f.files[name];
    const det = await AnomalyDetector.fromVersion(o.modelsDir, v, { rf: true, xgb: true, helm: true, lr: true, adaptive: true }, {
      window: { rf: file('rf'), xgb: file('xgb'), helm: file('helm'), ...(f.files.lr ? { lr: file('lr') } : {}) },
      sample: { rf: file('rf-sample'), xgb: file('xgb-sample'), helm: file('helm-sample') },
      thresholds: f.thresholds,
    });
    const [s, e] = f.testCycles;
    const x = new Float32Array((e - s) * F);
    for (let i = s; i < e; i++) x.set(features[i], (i - s) * F);
    const probs: Partial<Record<Family, Probabilities>> = await det.runAll(det.models.window, x, e - s);
    const ec = det.ensembleConfig('window');
    for (let i = 0; i < e - s; i++) {
      const row: Partial<Record<Family, Record<ComponentName, Float32Array>>> = {};
      for (const fam of FAMILIES.filter((q) => probs[q])) {
        row[fam] = Object.fromEntries(COMPONENTS.map((c) => {
          const K = v.components[c].conditions.length;
          return [c, probs[fam]![c].subarray(i * K, (i + 1) * K)];
        })) as Record<ComponentName, Float32Array>;
      }
      const r = combine(ec, { probabilities: row });
      for (const c of COMPONENTS) {
        out[c].score[s + i] = r.components[c].probability;
        // combine flags probability >= threshold; the tables flag score > threshold
        out[c].threshold[s + i] = ec.thresholds.ensemble[c] - 1e-9;
      }
    }
    await det.close();
  }
  return out;
}

/** regime centres from the data's cooler settings (the rig's regimes), in REGIME_FEATURES */
export function regimeSpecs(features: Float64Array[], cooler: ArrayLike<number>): RegimeSpec[] {
  const idx = REGIME_FEATURES.map((f) => WINDOW_FEATURE_NAMES.indexOf(f));
  const groups = new Map<number, number[][]>();
  features.forEach((x, i) => {
    const g = groups.get(cooler[i]) ?? [];
    g.push(idx.map((j) => x[j]));
    groups.set(cooler[i], g);
  });
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([k, rows]) => {
    const center = idx.map((_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
    const scale = idx.map((_, j) => Math.max(1e-6, Math.sqrt(rows.reduce((s, r) => s + (r[j] - center[j]) ** 2, 0) / rows.length)));
    return { id: `cooler-${k}`, center, scale };
  });
}

/** P(degraded) of the baseline member per row, NaN where the fold's regime has no earlier healthy reference */
function baselineScores(features: Float64Array[], regime: string[], folds: Fold[], healthy: ArrayLike<boolean>): { p: Float64Array; hasReference: Uint8Array } {
  const n = features.length;
  const p = new Float64Array(n).fill(Number.NaN);
  const hasReference = new Uint8Array(n);
  const bi = BASELINE_FEATURES.map((f) => WINDOW_FEATURE_NAMES.indexOf(f));
  for (const f of folds) {
    const refs = new Map<string, HealthyReference | null>();
    for (let i = f.start; i < f.end; i++) {
      const r = regime[i];
      if (!refs.has(r)) {
        const rows: number[][] = [];
        for (let j = 0; j < f.start && rows.length < COMMISSIONING_WINDOWS; j++)
          if (healthy[j] && regime[j] === r) rows.push(bi.map((q) => features[j][q]));
        refs.set(r, rows.length >= MIN_REFERENCE_WINDOWS ? buildReference(r, BASELINE_FEATURES, rows) : null);
      }
      const ref = refs.get(r);
      if (!ref) continue;
      hasReference[i] = 1;
      p[i] = baselineProbability(deviationRatio(ref, bi.map((q) => features[i][q])));
    }
  }
  return { p, hasReference };
}

/** per row: coverage of its operating conditions by its fold's training part */
function coverageScores(features: Float64Array[], folds: Fold[]): Float64Array {
  const ci = COVERAGE_FEATURES.map((f) => WINDOW_FEATURE_NAMES.indexOf(f));
  const n = features.length;
  const raw = features.map((x) => ci.map((j) => x[j]));
  const out = new Float64Array(n).fill(Number.NaN);
  for (const f of folds) {
    const train = raw.filter((_, i) => i < f.start || i >= f.end);
    const mean = ci.map((_, j) => train.reduce((s, r) => s + r[j], 0) / train.length);
    const std = ci.map((_, j) => Math.sqrt(train.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / train.length));
    const pts = train.map((r) => standardise(mean, std, r));
    const self = selfDistances(pts);
    for (let i = f.start; i < f.end; i++) out[i] = coverageOf(self, nearestDistance(pts, standardise(mean, std, raw[i])));
  }
  return out;
}

function fromOof(oof: EnsembleOof['components'][ComponentName], which: 'model' | 'control', n: number, folds: Fold[]) {
  const src = oof![which];
  if (src.pDegraded.length !== n) throw new Error(`ensemble out-of-fold file: ${src.pDegraded.length} rows for ${n} cycles`);
  const score = Float64Array.from(src.pDegraded, (v) => (v === null ? Number.NaN : v));
  const threshold = new Float64Array(n).fill(Number.NaN);
  for (const f of src.folds) if (f.threshold !== undefined) threshold.fill(f.threshold - 1e-9, f.stretch[0], f.stretch[1]);
  if (src.folds.length !== folds.length || src.folds.some((f, k) => f.stretch[0] !== folds[k].start || f.stretch[1] !== folds[k].end))
    throw new Error('ensemble out-of-fold file: its folds are not this protocol\'s');
  return { score, threshold, skipped: src.folds.filter((f) => f.skipped).length };
}

export async function runProtocols(o: ProtocolOptions): Promise<ProtocolReport[]> {
  const log = o.log ?? (() => {});
  const data = o.data;
  if (!data.labels) throw new Error(`${data.dir}: no profile.txt, nothing to evaluate against`);
  assertCycleOrder(data.cycles);
  const labels = data.labels;
  const n = data.windows.length;
  const seed = o.seed ?? 20261206;
  const components = o.components ?? [...COMPONENTS];
  const features = data.windows.map((w) => windowFeatures(w));
  const xAll: Matrix = columnMatrix(features);
  const xIndex: Matrix = { rows: n, cols: 1, data: Float64Array.from(data.cycles, (c) => c) };
  const learner: Learner = extraTrees({ trees: o.trees ?? 50 });
  const specs = regimeSpecs(features, labels.cooler);
  const ri = REGIME_FEATURES.map((f) => WINDOW_FEATURE_NAMES.indexOf(f));
  const regime = features.map((x) => estimateRegime({ regimes: specs }, ri.map((j) => x[j])));
  const oof: EnsembleOof | null = o.ensembleOof ? (JSON.parse(readFileSync(o.ensembleOof, 'utf8')) as EnsembleOof) : null;
  const reports: ProtocolReport[] = [];
  for (const protocol of o.protocols) {
    const block = protocol === 'block' ? await blockEnsemble(o, features) : null;
    const comps: ComponentProtocolReport[] = [];
    for (const c of components) {
      const conds = o.version.components[c].conditions;
      const cond = labels[c];
      const healthyValue = conds[HEALTHY_INDEX];
      const degraded = Uint8Array.from(cond, (x) => (x === healthyValue ? 0 : 1));
      const folds = foldsOf(protocol, data, c, o.blocks ?? 10);
      const cv = (x: Matrix, l: Learner) => crossValidate({ x, degraded, folds, learner: l, innerGroups: INNER_GROUPS, maxInnerFpr: MAX_INNER_FPR, seed });
      const skippedOf = (r: ReturnType<typeof crossValidate>) => r.folds.filter((f) => f.skipped).length;
      const rows: RowFigures[] = [];
      const t0 = performance.now();
      const control = cv(xIndex, learner);
      rows.push(figures('control: extra-trees on the cycle index', control.score, control.threshold, cond, healthyValue, skippedOf(control)));
      const et = cv(xAll, learner);
      rows.push(figures('extra-trees, 605 window features', et.score, et.threshold, cond, healthyValue, skippedOf(et)));
      let ens: { score: Float64Array; threshold: Float64Array; skipped: number; name: string } | null = null;
      if (block) ens = { ...block[c], skipped: 0, name: `ensemble ${o.version.version} (fold models)` };
      const oc = oof?.components[c];
      if (protocol === 'stretch' && oc) {
        const ctl = fromOof(oc, 'control', n, folds);
        rows.push(figures('control: ensemble recipe on the cycle index', ctl.score, ctl.threshold, cond, healthyValue, ctl.skipped));
        ens = { ...fromOof(oc, 'model', n, folds), name: `ensemble recipe ${oof!.recipe.split(':')[0]} (refitted per fold)` };
      }
      if (ens) rows.push(figures(ens.name, ens.score, ens.threshold, cond, healthyValue, ens.skipped));
      let unfamiliarModel = ens ? { name: ens.name, score: ens.score, threshold: ens.threshold } : { name: rows[1].model, score: et.score, threshold: et.threshold };
      let hasReference: Uint8Array = new Uint8Array(n);
      if (c !== 'cooler') {
        // cooler: its condition is the regime itself, a per-regime healthy reference cannot see it
        const healthy = Array.from(cond, (x) => x === healthyValue);
        const base = baselineScores(features, regime, folds, healthy);
        hasReference = base.hasReference;
        const fixed: Learner = (_x, _y, _tr, test) => Float64Array.from(test, (r) => base.p[r]);
        const b = cv(xAll, fixed);
        const covered = base.hasReference.reduce((s, x) => s + x, 0);
        rows.push(figures('baseline deviation (preceding healthy cycles of the regime)', b.score, b.threshold, cond, healthyValue, skippedOf(b), `${covered} of ${n} cycles have a reference`));
        const etb: Learner = (x, y, tr, te, s) => {
          const p = learner(x, y, tr, te, s);
          return Float64Array.from(te, (r, k) => withBaseline(p[k], Number.isNaN(base.p[r]) ? null : base.p[r]));
        };
        const r2 = cv(xAll, etb);
        rows.push(figures('extra-trees + baseline', r2.score, r2.threshold, cond, healthyValue, skippedOf(r2)));
        unfamiliarModel = { name: 'extra-trees + baseline', score: r2.score, threshold: r2.threshold };
        if (ens) {
          const score = Float64Array.from(ens.score, (p, i) => withBaseline(p, Number.isNaN(base.p[i]) ? null : base.p[i]));
          // the recipe's inner scores are not in the file: each fold's threshold comes from the other
          // folds' out-of-fold scores (those models saw this fold: not strictly nested)
          const threshold = new Float64Array(n).fill(Number.NaN);
          for (const f of folds) {
            const other = Array.from({ length: n }, (_, i) => i).filter((i) => (i < f.start || i >= f.end) && !Number.isNaN(score[i]));
            if (Number.isNaN(ens.threshold[f.start])) continue;
            threshold.fill(thresholdAtFpr(other.map((i) => score[i]), other.map((i) => degraded[i]), MAX_INNER_FPR), f.start, f.end);
          }
          rows.push(figures(`${ens.name} + baseline`, score, threshold, cond, healthyValue, ens.skipped, 'threshold from the other folds\' out-of-fold scores (not strictly nested)'));
          unfamiliarModel = { name: `${ens.name} + baseline`, score, threshold };
        }
      }
      // unfamiliar conditions: coverage by the fold's training part, or a healthy reference of the regime
      const cover = coverageScores(features, folds);
      let errors = 0, flagged = 0, flaggedRows = 0, scoredRows = 0;
      for (let i = 0; i < n; i++) {
        const s = unfamiliarModel.score[i], t = unfamiliarModel.threshold[i];
        if (Number.isNaN(s) || Number.isNaN(t)) continue;
        scoredRows++;
        const flag = cover[i] < MIN_COVERAGE && !hasReference[i];
        if (flag) flaggedRows++;
        if ((s > t) !== (degraded[i] === 1)) { errors++; if (flag) flagged++; }
      }
      const controlAuc = rows[0].auc;
      const real = rows.filter((r) => !r.model.startsWith('control')).map((r) => r.auc).filter((a): a is number => a !== null);
      const best = real.length ? Math.max(...real) : null;
      comps.push({
        component: c,
        folds: folds.length,
        rows,
        controlAuc,
        measuresSchedule: controlAuc !== null && controlAuc >= SCHEDULE_AUC,
        margin: best !== null && controlAuc !== null ? best - controlAuc : null,
        unfamiliar: { model: unfamiliarModel.name, errors, flagged, share: errors ? flagged / errors : null, flaggedRows, scoredRows },
      });
      log(`  ${protocol} ${c}: ${folds.length} folds, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    reports.push({
      protocol,
      detail: protocol === 'block'
        ? `${o.blocks ?? 10} contiguous blocks of consecutive cycles; fitted rows: thresholds from an inner CV over the training blocks (${INNER_GROUPS} groups, FPR <= ${MAX_INNER_FPR * 100} %); fold-model rows: the version's own nested thresholds`
        : `per component, every maximal run of consecutive cycles with a constant (cooler, component) condition held out once; thresholds from an inner CV over the training runs (${INNER_GROUPS} contiguous groups, FPR <= ${MAX_INNER_FPR * 100} %)`,
      components: comps,
    });
  }
  return reports;
}

const pc = (x: number | null | undefined) => (x === null || x === undefined ? '    - ' : (100 * x).toFixed(1).padStart(6));
const f3 = (x: number | null) => (x === null ? '    - ' : x.toFixed(3).padStart(6));

export function formatProtocols(reports: ProtocolReport[], version: ManifestVersion): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push('', `== protocol ${r.protocol}: ${r.detail}`);
    for (const c of r.components) {
      const degradedConds = version.components[c.component].conditions.slice(1);
      lines.push('', `${c.component}: ${c.folds} folds` + (c.measuresSchedule
        ? `  — MEASURES THE SCHEDULE: the cycle-index control reaches AUC ${c.controlAuc!.toFixed(3)} (>= ${SCHEDULE_AUC})`
        : `  — control AUC ${f3(c.controlAuc).trim()} (< ${SCHEDULE_AUC}): the schedule alone does not score`));
      lines.push(`  ${'model'.padEnd(58)} scored    AUC   FPR% recall% ${degradedConds.map((k) => String(k).padStart(6)).join(' ')}  rec@2%* skipped`);
      for (const row of c.rows)
        lines.push(`  ${row.model.padEnd(58)} ${String(row.scored).padStart(6)} ${f3(row.auc)} ${pc(row.fpr)} ${pc(row.recall)} ${degradedConds.map((k) => pc(row.recallByCondition[String(k)] ?? null)).join(' ')}  ${pc(row.recallAtFpr2Ceiling)} ${String(row.foldsSkipped).padStart(7)}${row.note ? `  (${row.note})` : ''}`);
      lines.push(`  margin: best real model AUC - control AUC = ${c.margin === null ? '-' : c.margin.toFixed(3)}`);
      if (c.unfamiliar) {
        const u = c.unfamiliar;
        lines.push(`  unfamiliar flag (${u.model}): ${u.flagged} of ${u.errors} errors flagged${u.share === null ? '' : ` (${(100 * u.share).toFixed(1)} %)`}; ${u.flaggedRows} of ${u.scoredRows} scored cycles flagged`);
      }
    }
  }
  lines.push('', '* rec@2%: recall at FPR <= 2 % with the threshold read off the pooled out-of-fold scores — a diagnostic of the ranking, not an honest figure');
  return lines.join('\n');
}
