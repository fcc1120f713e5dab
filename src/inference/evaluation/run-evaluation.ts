/**
 * Offline evaluation of the ensemble and of each model alone on a folder in the UCI layout.
 *
 * Protocol:
 * - If the folder is the training set of the selected version (same data digest as the manifest's
 *   training.dataSha256) and the version carries cross-validation folds, every cycle is scored by
 *   the out-of-fold models of the block it belongs to (models/hydraulic-17/<version>/cv/fold-k,
 *   trained without that block, thresholds tuned without it): honest block cross-validation with
 *   the exact ONNX artefacts and TypeScript features used in serving.
 * - Otherwise every cycle is scored by the production models of the version.
 * Cycle level: one window per cycle. Sample level: each of the 60 one-second rows of every cycle
 * scored alone by the sample models. The adaptive vote is reported separately (it is not tied to
 * a component): replayed over the cycles in file order as one equipment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { adaptiveStep, initialAdaptiveState } from '../adaptive.js';
import { AnomalyDetector } from '../anomaly-detector.js';
import { COMPONENTS, FAMILIES, combine, type ComponentName, type EnsembleConfig, type Family } from '../ensemble.js';
import { SAMPLE_FEATURE_NAMES, SENSORS, WINDOW_FEATURE_NAMES, sampleFeatures, windowFeatures } from '../features/hydraulic-17.js';
import { readManifest, selectVersion, type ManifestVersion, type Probabilities } from '../registry.js';
import { confusionSvg } from './confusion-svg.js';
import { componentMetrics, type ComponentMetrics } from './metrics.js';
import { loadUci, type UciData } from './uci-data.js';

/** 'ensemble' and every model family alone; a family the version lacks (lr before 1.1.0, lr in
 * sample mode) is left out of that table. */
export const CONFIGS = ['ensemble', 'rf', 'xgb', 'helm', 'lr'] as const;
export type Config = (typeof CONFIGS)[number];
type Table = Partial<Record<Config, Record<ComponentName, ComponentMetrics>>>;

export interface EvaluationOptions {
  dataDir: string;
  modelsDir: string;
  version?: string;
  outDir: string;
  /** force production models even on the training set (optimistic, in-sample) */
  production?: boolean;
  log?: (line: string) => void;
}

export interface EvaluationReport {
  version: string;
  dataDir: string;
  dataDigest: string;
  protocol: 'block-cv' | 'production';
  protocolDetail: string;
  cycles: number;
  folds: Array<{ fold: number; testCycles: [number, number] }>;
  cycle: Table;
  sample: Table;
  adaptive: { healthyCycles: number; degradedCycles: number; fprAllHealthy: number | null; recallAnyDegraded: number | null };
  timing: { seconds: number; windowsPerSecond: number; samplesPerSecond: number };
  files: { json: string; svg: string };
}

interface Part {
  start: number;
  end: number;
  det: AnomalyDetector;
}

function flagsAll() {
  return { rf: true, xgb: true, helm: true, lr: true, adaptive: true };
}

/** configurations that can be scored with the given per-family probabilities */
function configsOf(p: Partial<Record<Family, Probabilities>>): Config[] {
  return CONFIGS.filter((k) => k === 'ensemble' || p[k] !== undefined);
}

function subset(p: Partial<Record<Family, Probabilities>>, cfg: Config): Partial<Record<Family, Probabilities>> {
  return cfg === 'ensemble' ? p : { [cfg]: p[cfg] };
}

/** Decides every row for one configuration; returns predicted class indices per component. */
function decide(v: ManifestVersion, ec: EnsembleConfig, probs: Partial<Record<Family, Probabilities>>, n: number, cfg: Config): Record<ComponentName, Int8Array> {
  const out = Object.fromEntries(COMPONENTS.map((c) => [c, new Int8Array(n)])) as Record<ComponentName, Int8Array>;
  const fams = (cfg === 'ensemble' ? FAMILIES.filter((f) => probs[f] !== undefined) : [cfg]) as Family[];
  for (let i = 0; i < n; i++) {
    const row: Partial<Record<Family, Record<ComponentName, Float32Array>>> = {};
    for (const f of fams) {
      row[f] = Object.fromEntries(
        COMPONENTS.map((c) => {
          const K = v.components[c].conditions.length;
          return [c, probs[f]![c].subarray(i * K, (i + 1) * K)];
        }),
      ) as Record<ComponentName, Float32Array>;
    }
    const r = combine(ec, { probabilities: row });
    for (const c of COMPONENTS) out[c][i] = v.components[c].conditions.indexOf(r.components[c].condition);
  }
  return out;
}

export async function evaluate(opts: EvaluationOptions): Promise<EvaluationReport> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const data: UciData = loadUci(opts.dataDir);
  if (!data.labels) throw new Error(`${opts.dataDir}: no profile.txt, nothing to evaluate against`);
  const labels = data.labels;
  const n = data.windows.length;
  const manifest = await readManifest(opts.modelsDir);
  const v = selectVersion(manifest, opts.version);
  const trainingDigest = (v.training as { dataSha256?: string } | undefined)?.dataSha256;
  const cv = !opts.production && v.cv && trainingDigest === data.digest ? v.cv : null;
  log(`${n} cycles from ${opts.dataDir}; version ${v.version}; ${cv ? `block CV with ${cv.folds.length} fold model sets` : 'production models'}`);

  const parts: Part[] = [];
  if (cv) {
    for (const f of cv.folds) {
      const file = (name: string) => f.files[name];
      const det = await AnomalyDetector.fromVersion(opts.modelsDir, v, flagsAll(), {
        window: { rf: file('rf'), xgb: file('xgb'), helm: file('helm'), ...(f.files.lr ? { lr: file('lr') } : {}) },
        sample: { rf: file('rf-sample'), xgb: file('xgb-sample'), helm: file('helm-sample') },
        thresholds: f.thresholds,
      });
      parts.push({ start: f.testCycles[0], end: f.testCycles[1], det });
    }
    if (parts.reduce((s, p) => s + p.end - p.start, 0) !== n) throw new Error('CV folds do not cover the data set');
  } else {
    parts.push({ start: 0, end: n, det: await AnomalyDetector.load({ modelsDir: opts.modelsDir, version: v.version }) });
  }

  const yTrue = Object.fromEntries(COMPONENTS.map((c) => [c, Int8Array.from(labels[c], (x) => v.components[c].conditions.indexOf(x))])) as Record<ComponentName, Int8Array>;
  for (const c of COMPONENTS) {
    const bad = yTrue[c].findIndex((x) => x < 0);
    if (bad >= 0) throw new Error(`profile.txt row ${bad + 1}: ${c} condition ${labels[c][bad]} is not one of ${v.components[c].conditions.join('/')}`);
  }
  const predCycle: Partial<Record<Config, Record<ComponentName, Int8Array>>> = {};
  const predSample: Partial<Record<Config, Record<ComponentName, Int8Array>>> = {};
  const slot = (pred: Partial<Record<Config, Record<ComponentName, Int8Array>>>, k: Config, len: number) =>
    (pred[k] ??= Object.fromEntries(COMPONENTS.map((c) => [c, new Int8Array(len)])) as Record<ComponentName, Int8Array>);
  let tWin = 0, tSmp = 0;
  for (const part of parts) {
    const m = part.end - part.start;
    const FW = WINDOW_FEATURE_NAMES.length;
    const xw = new Float32Array(m * FW);
    for (let i = 0; i < m; i++) xw.set(windowFeatures(data.windows[part.start + i]), i * FW);
    const FS = SAMPLE_FEATURE_NAMES.length;
    const xs = new Float32Array(m * 60 * FS);
    const row = new Float64Array(SENSORS.length);
    for (let i = 0; i < m; i++)
      for (let s = 0; s < 60; s++) {
        for (let j = 0; j < SENSORS.length; j++) row[j] = data.windows[part.start + i][j][s];
        xs.set(sampleFeatures(row), (i * 60 + s) * FS);
      }
    let t = performance.now();
    const pw = await part.det.runAll(part.det.models.window, xw, m);
    tWin += performance.now() - t;
    t = performance.now();
    const ps = await part.det.runAll(part.det.models.sample, xs, m * 60);
    tSmp += performance.now() - t;
    for (const k of configsOf(pw)) {
      const dw = decide(v, part.det.ensembleConfig('window'), subset(pw, k), m, k);
      for (const c of COMPONENTS) slot(predCycle, k, n)[c].set(dw[c], part.start);
    }
    for (const k of configsOf(ps)) {
      const ds = decide(v, part.det.ensembleConfig('sample'), subset(ps, k), m * 60, k);
      for (const c of COMPONENTS) slot(predSample, k, n * 60)[c].set(ds[c], part.start * 60);
    }
    log(`  cycles [${part.start}, ${part.end}) scored`);
  }
  for (const p of parts) await p.det.close();

  const ySample = Object.fromEntries(COMPONENTS.map((c) => [c, Int8Array.from({ length: n * 60 }, (_, i) => yTrue[c][Math.floor(i / 60)])])) as Record<ComponentName, Int8Array>;
  const table = (pred: Partial<Record<Config, Record<ComponentName, Int8Array>>>, y: Record<ComponentName, Int8Array>): Table =>
    Object.fromEntries(
      CONFIGS.filter((k) => pred[k]).map((k) => [k, Object.fromEntries(COMPONENTS.map((c) => [c, componentMetrics(y[c], pred[k]![c], v.components[c].conditions.length)]))]),
    ) as Table;

  // adaptive vote, replayed over the cycles in order as one equipment
  let st = initialAdaptiveState(v.version);
  let hN = 0, hA = 0, dN = 0, dA = 0;
  const meanIdx = v.adaptive.window.features.map((f) => WINDOW_FEATURE_NAMES.indexOf(f));
  for (let i = 0; i < n; i++) {
    const f = windowFeatures(data.windows[i]);
    const r = adaptiveStep(v.adaptive, st, 'window', meanIdx.map((j) => f[j]));
    st = r.state;
    const anyDegraded = COMPONENTS.some((c) => yTrue[c][i] > 0);
    if (anyDegraded) { dN++; if (r.vote.anomaly) dA++; } else { hN++; if (r.vote.anomaly) hA++; }
  }

  const base = `evaluation-${v.version}-${path.basename(path.resolve(opts.dataDir))}`;
  mkdirSync(opts.outDir, { recursive: true });
  const json = path.join(opts.outDir, `${base}.json`);
  const svg = path.join(opts.outDir, `${base}-confusion.svg`);
  const cycle = table(predCycle, yTrue);
  const sample = table(predSample, ySample);
  const report: EvaluationReport = {
    version: v.version,
    dataDir: path.resolve(opts.dataDir),
    dataDigest: data.digest,
    protocol: cv ? 'block-cv' : 'production',
    protocolDetail: cv ? cv.protocol : 'production models of the version, every cycle (in-sample if the folder overlaps the training set)',
    cycles: n,
    folds: parts.map((p, i) => ({ fold: i, testCycles: [p.start, p.end] as [number, number] })),
    cycle,
    sample,
    adaptive: { healthyCycles: hN, degradedCycles: dN, fprAllHealthy: hN ? hA / hN : null, recallAnyDegraded: dN ? dA / dN : null },
    timing: { seconds: (performance.now() - t0) / 1000, windowsPerSecond: n / (tWin / 1000), samplesPerSecond: (n * 60) / (tSmp / 1000) },
    files: { json, svg },
  };
  writeFileSync(json, JSON.stringify(report, null, 1) + '\n');
  writeFileSync(
    svg,
    confusionSvg(
      `${v.version} on ${path.basename(path.resolve(opts.dataDir))} — ensemble, whole cycles (${report.protocol}); rows true, columns predicted`,
      COMPONENTS.map((c) => ({ title: c, labels: v.components[c].conditions, matrix: cycle.ensemble![c].confusion })),
    ),
  );
  return report;
}

const pct = (x: number | null) => (x === null ? '   -  ' : (100 * x).toFixed(2).padStart(6));

export function formatReport(r: EvaluationReport): string {
  const lines: string[] = [`model ${r.version}, ${r.cycles} cycles, protocol ${r.protocol}`];
  for (const level of ['cycle', 'sample'] as const) {
    lines.push('', `${level === 'cycle' ? 'whole cycles' : 'single samples'}         FPR%  recall%  acc%   macroF1  condAcc%`);
    for (const k of CONFIGS.filter((x) => r[level][x]))
      for (const c of COMPONENTS) {
        const m = r[level][k]![c];
        lines.push(`  ${k.padEnd(9)} ${c.padEnd(12)} ${pct(m.fpr)} ${pct(m.recall)} ${pct(m.accuracy)}  ${m.macroF1.toFixed(4)}  ${pct(m.conditionAccuracy)}`);
      }
  }
  lines.push('', `adaptive vote (not tied to a component): FPR on all-healthy cycles ${pct(r.adaptive.fprAllHealthy)}%, recall on any-degraded cycles ${pct(r.adaptive.recallAnyDegraded)}%`);
  lines.push(`ORT throughput: ${r.timing.windowsPerSecond.toFixed(0)} windows/s, ${r.timing.samplesPerSecond.toFixed(0)} samples/s (all models); total ${r.timing.seconds.toFixed(1)} s`);
  lines.push(`report ${r.files.json}`, `confusion matrix ${r.files.svg}`);
  return lines.join('\n');
}
