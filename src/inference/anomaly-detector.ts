/**
 * AnomalyDetector — the one class the application calls to score sensor data in-process.
 *
 * ```ts
 * const det = await AnomalyDetector.load({ modelsDir: 'models', version?, flags?: { rf, xgb, helm, adaptive } });
 * det.version / det.profile / det.sensors (id, unit, plausible min/max) / det.dutyCycleSeconds
 * // one duty cycle (60 samples at 1 Hz; see "Windows" below)
 * const { result, state } = await det.scoreWindow(samples, state?);
 * // one 1-Hz row of the 17 sensors (sample models; weaker, see docs/models.md)
 * const { result, state } = await det.scoreSample(values, state?);
 * // many windows, one batched ORT call per model (re-projection); adaptive state threaded in order
 * const { results, state } = await det.scoreWindows(batch, state?);
 * // independent packed windows (detect requests), one batched ORT call, a WindowError in place of a bad one
 * const resultsOrErrors = await det.scorePackedWindows([{ ts, values }, ...]);
 * await det.close();
 * ```
 * - `state` is the adaptive-threshold state of ONE equipment (plain JSON, persist it per equipment);
 *   omitted = start from the manifest's healthy baseline. Same inputs + same state => same result.
 * - Windows: samples are placed in one-second slots from the epoch-aligned duty-cycle start when they
 *   fit in one such cycle, else from the earliest ts (or `opts.start`); a sensor
 *   needs >= 90 % of the slots (54 of 60); gaps are filled by linear interpolation / nearest value.
 *   Otherwise a WindowError explains what is missing. Values must be finite numbers.
 * - DetectionResult.components[c].probability = P(component degraded); `condition` is the predicted
 *   condition value (healthy value when not degraded); `votes` holds rf / xgb / helm / adaptive.
 * - Flags switch models off; at least one of rf / xgb / helm must stay on. `lr` (versions >= 1.1.0,
 *   window mode only; accumulator weight in the window ensemble) is used when the version has it.
 */
import { metrics } from '../observability/metrics.js';
import { adaptiveStep, initialAdaptiveState, type AdaptiveConfig, type AdaptiveState } from './adaptive.js';
import { baselineStep } from './baseline/baseline-state.js';
import type { HealthyReference } from './baseline/healthy-baseline.js';
import { coverage, estimateRegime, type OperatingConditions } from './baseline/operating-conditions.js';
import { COMPONENTS, FAMILIES, combine, type ComponentName, type ComponentResult, type EnsembleConfig, type Family, type Severity } from './ensemble.js';
import { SAMPLE_FEATURE_NAMES, SENSORS, WINDOW_FEATURE_NAMES, sampleFeatures, windowFeatures } from './features/hydraulic-17.js';
import { assemblePackedWindow, assembleWindow, defaultMinPresent, WindowError, type TimedValues } from './features/window.js';
import { ModelSet, classCounts, readManifest, selectVersion, type BundleSpec, type ManifestVersion, type ModelRunLabel, type Probabilities, type Thresholds } from './registry.js';

export type { ComponentName, ComponentResult, Severity } from './ensemble.js';
export type { AdaptiveState } from './adaptive.js';
export { WindowError } from './features/window.js';
export { RegistryError } from './registry.js';

export interface Sample {
  ts: string;
  values: Record<string, number>;
}

export interface DetectionResult {
  isAnomaly: boolean;
  score: number;
  affectedComponent: ComponentName | null;
  confidence: number;
  modelVersion: string;
  severity: Severity;
  components: Record<ComponentName, ComponentResult>;
  votes: Record<string, { weight: number; anomaly: boolean; score: number }>;
  mode: 'window' | 'sample';
  /** window mode of versions with operatingConditions (1.2.0 on): regime, coverage, unfamiliar; else null */
  operatingConditions: OperatingConditions | null;
  /** the equipment's healthy reference that this window completed (the saga records BaselineEstablished) */
  baselineEstablished?: HealthyReference;
}

/** per window: inputs of the operating-conditions assessment (indices into the feature row, looked up once) */
interface ConditionInputs {
  regime: number[];
  coverage: number[];
  baseline: number[];
}

export interface DetectorFlags {
  rf?: boolean;
  xgb?: boolean;
  helm?: boolean;
  /** logistic-regression family (window models of versions that have one); default on */
  lr?: boolean;
  adaptive?: boolean;
}

export interface DetectorOptions {
  modelsDir: string;
  version?: string;
  flags?: DetectorFlags;
  /** Minimum present seconds per sensor in a window (default 90 % of the duty cycle). */
  minPresent?: number;
  /** Run the window models as the version's bundle when it has one (default true; parity tests open both). */
  bundle?: boolean;
}

export interface SensorSpec {
  id: string;
  unit: string;
  min: number;
  max: number;
}

export interface WindowScoreOptions {
  /** Window start (ISO string or epoch ms); default the earliest sample's ts. */
  start?: string | number;
}

export class AnomalyDetector {
  readonly version: string;
  readonly profile: string;
  readonly sensors: readonly SensorSpec[];
  readonly dutyCycleSeconds: number;
  readonly flags: Required<DetectorFlags>;
  /**
   * Called with each session run's duration (per family, or `bundle` for the window bundle); by default
   * model_inference_duration_seconds (a scoring worker forwards them).
   */
  observeModelRun: (model: ModelRunLabel, seconds: number) => void = (model, seconds) => metrics.modelInferenceDuration.observe({ model }, seconds);
  /** Where the adaptive channels' inputs sit in a feature row / sample row (looked up once, not per call). */
  private readonly adaptiveWindowIndex: number[];
  private readonly adaptiveSampleIndex: number[];
  private readonly conditionIndex: { regime: number[]; coverage: number[]; baseline: number[] } | null;

  private constructor(
    readonly manifest: ManifestVersion,
    private readonly windowModels: ModelSet,
    private readonly sampleModels: ModelSet,
    flags: Required<DetectorFlags>,
    private readonly minPresent: number,
  ) {
    this.version = manifest.version;
    this.profile = manifest.profile;
    this.sensors = Object.freeze(manifest.sensors.map((s) => Object.freeze({ ...s })));
    this.dutyCycleSeconds = manifest.dutyCycleSeconds;
    this.flags = flags;
    this.adaptiveWindowIndex = manifest.adaptive.window.features.map((name) => WINDOW_FEATURE_NAMES.indexOf(name));
    this.adaptiveSampleIndex = manifest.adaptive.sample.features.map((name) => SENSORS.indexOf(name as (typeof SENSORS)[number]));
    const oc = manifest.operatingConditions;
    const at = (names: readonly string[]) => names.map((name) => WINDOW_FEATURE_NAMES.indexOf(name));
    this.conditionIndex = oc ? { regime: at(oc.regimeFeatures), coverage: at(oc.coverageFeatures), baseline: at(manifest.baseline?.features ?? []) } : null;
  }

  static async load(opts: DetectorOptions): Promise<AnomalyDetector> {
    const manifest = await readManifest(opts.modelsDir);
    const v = selectVersion(manifest, opts.version);
    const flags: Required<DetectorFlags> = { rf: true, xgb: true, helm: true, lr: true, adaptive: true, ...stripUndefined(opts.flags ?? {}) };
    return AnomalyDetector.fromVersion(opts.modelsDir, v, flags, {
      window: v.models,
      sample: v.sampleModels,
      windowBundle: opts.bundle === false ? undefined : v.windowBundle,
      minPresent: opts.minPresent,
    });
  }

  /** Internal / evaluation: a detector over explicit model files (e.g. a CV fold's models and thresholds). */
  static async fromVersion(
    modelsDir: string,
    v: ManifestVersion,
    flags: Required<DetectorFlags>,
    opts: {
      window: Partial<Record<Family, { path: string; sha256: string }>>;
      sample: Partial<Record<Family, { path: string; sha256: string }>>;
      /** all window models in one session (used when exactly its families are enabled) */
      windowBundle?: BundleSpec;
      thresholds?: Thresholds;
      minPresent?: number;
    },
  ): Promise<AnomalyDetector> {
    if (!flags.rf && !flags.xgb && !flags.helm) throw new Error('AnomalyDetector: at least one of rf, xgb, helm must be enabled');
    if (v.sensors.length !== SENSORS.length || v.sensors.some((s, i) => s.id !== SENSORS[i]))
      throw new Error(`manifest version ${v.version}: sensors differ from the ${v.profile} extractor`);
    const enabled = { rf: flags.rf, xgb: flags.xgb, helm: flags.helm, lr: flags.lr };
    const classes = classCounts(v);
    const windowModels = await ModelSet.open(modelsDir, opts.window, WINDOW_FEATURE_NAMES.length, classes, enabled, opts.windowBundle);
    let sampleModels: ModelSet;
    try {
      sampleModels = await ModelSet.open(modelsDir, opts.sample, SAMPLE_FEATURE_NAMES.length, classes, enabled);
    } catch (e) {
      await windowModels.close();
      throw e;
    }
    const version = opts.thresholds ? { ...v, ensemble: { ...v.ensemble, thresholds: opts.thresholds } } : v;
    return new AnomalyDetector(version, windowModels, sampleModels, flags, opts.minPresent ?? defaultMinPresent(v.dutyCycleSeconds));
  }

  ensembleConfig(mode: 'window' | 'sample'): EnsembleConfig {
    const e = this.manifest.ensemble;
    return {
      weights: e.weights,
      // per-component weights belong to the window ensemble (the sample models have no lr)
      componentWeights: mode === 'window' ? e.componentWeights : undefined,
      thresholds: mode === 'window' ? e.thresholds : e.sampleThresholds,
      components: this.manifest.components as EnsembleConfig['components'],
    };
  }

  private get adaptiveConfig(): AdaptiveConfig {
    return this.manifest.adaptive;
  }

  /** 60 x 17 columns from timestamped samples (see "Windows" above). */
  assemble(samples: readonly TimedValues[], opts: WindowScoreOptions = {}): Float64Array[] {
    return assembleWindow(samples, { sensors: SENSORS, seconds: this.dutyCycleSeconds, minPresent: this.minPresent, start: opts.start });
  }

  async scoreWindow(samples: readonly Sample[], state?: AdaptiveState, opts: WindowScoreOptions = {}): Promise<{ result: DetectionResult; state: AdaptiveState }> {
    const cols = this.assemble(samples, opts);
    const { results, state: next } = await this.scoreColumns([cols], state);
    return { result: results[0], state: next };
  }

  /**
   * Independent windows in packed form, e.g. separate detect requests, each scored as scoreWindow scores it
   * with no adaptive state: window i from ts[i] and its values (sample s's value of sensor j, SENSORS order,
   * at values[s * 17 + j], NaN where not sent; see assemblePackedWindow). All windows go through the models in
   * one batched run: ONNX Runtime computes each row as it would alone (bit-identical, onnx-parity.spec.ts),
   * and its fixed cost per run, most of a single window's model time, is paid once. A window that cannot
   * be assembled gets its WindowError in its place; the others are scored.
   */
  async scorePackedWindows(windows: readonly { ts: readonly string[]; values: Float64Array }[]): Promise<(DetectionResult | WindowError)[]> {
    const out: (DetectionResult | WindowError)[] = new Array(windows.length);
    const cols: Float64Array[][] = [];
    const at: number[] = [];
    windows.forEach(({ ts, values }, i) => {
      try {
        cols.push(assemblePackedWindow(ts, values, { sensors: SENSORS, seconds: this.dutyCycleSeconds, minPresent: this.minPresent }));
        at.push(i);
      } catch (error) {
        if (!(error instanceof WindowError)) throw error;
        out[i] = error;
      }
    });
    if (cols.length) (await this.scoreColumns(cols, undefined, { independent: true })).results.forEach((r, k) => (out[at[k]!] = r));
    return out;
  }

  async scoreWindows(batch: readonly (readonly Sample[])[], state?: AdaptiveState): Promise<{ results: DetectionResult[]; state: AdaptiveState }> {
    return this.scoreColumns(batch.map((s) => this.assemble(s)), state);
  }

  /**
   * Scores already assembled windows (sensor columns), batched; adaptive state threaded in order, or with
   * `independent` each window starts from `state` (windows of different requests, not one equipment's series).
   */
  async scoreColumns(
    windows: readonly Float64Array[][],
    state?: AdaptiveState,
    opts: { independent?: boolean } = {},
  ): Promise<{ results: DetectionResult[]; state: AdaptiveState }> {
    const n = windows.length;
    const F = WINDOW_FEATURE_NAMES.length;
    const x = new Float32Array(n * F);
    const means: number[][] = [];
    const ci = this.conditionIndex;
    const conditions: ConditionInputs[] = [];
    windows.forEach((cols, i) => {
      const f = windowFeatures(cols);
      x.set(f, i * F);
      means.push(this.adaptiveWindowIndex.map((k) => f[k]));
      if (ci) conditions.push({ regime: ci.regime.map((k) => f[k]), coverage: ci.coverage.map((k) => f[k]), baseline: ci.baseline.map((k) => f[k]) });
    });
    const probs = await this.runAll(this.windowModels, x, n);
    return this.finish('window', probs, n, means, state, opts.independent, ci ? conditions : undefined);
  }

  async scoreSample(values: Record<string, number>, state?: AdaptiveState): Promise<{ result: DetectionResult; state: AdaptiveState }> {
    const { results, state: next } = await this.scoreSamples([values], state);
    return { result: results[0], state: next };
  }

  /** Many single samples (one row each), batched; adaptive state threaded in order. */
  async scoreSamples(rows: readonly Record<string, number>[], state?: AdaptiveState): Promise<{ results: DetectionResult[]; state: AdaptiveState }> {
    const n = rows.length;
    const F = SAMPLE_FEATURE_NAMES.length;
    const x = new Float32Array(n * F);
    const raws: number[][] = [];
    rows.forEach((values, i) => {
      const row = SENSORS.map((s) => {
        const v = values[s];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new WindowError(`sample ${i}: ${s} is missing or not a finite number`);
        return v;
      });
      x.set(sampleFeatures(row), i * F);
      raws.push(this.adaptiveSampleIndex.map((k) => row[k]));
    });
    const probs = await this.runAll(this.sampleModels, x, n);
    return this.finish('sample', probs, n, raws, state);
  }

  /** Raw per-model probabilities for n feature rows (used by evaluation and parity tests). */
  runAll(set: ModelSet, x: Float32Array, n: number): Promise<Partial<Record<Family, Probabilities>>> {
    return set.runAll(x, n, this.observeModelRun);
  }

  get models(): { window: ModelSet; sample: ModelSet } {
    return { window: this.windowModels, sample: this.sampleModels };
  }

  private finish(
    mode: 'window' | 'sample',
    probs: Partial<Record<Family, Probabilities>>,
    n: number,
    adaptiveInputs: number[][],
    state: AdaptiveState | undefined,
    independent = false,
    conditions?: ConditionInputs[],
  ): { results: DetectionResult[]; state: AdaptiveState } {
    let st = state ?? initialAdaptiveState(this.version);
    const cfg = this.ensembleConfig(mode);
    const results: DetectionResult[] = [];
    for (let i = 0; i < n; i++) {
      const rowProbs: Partial<Record<Family, Record<ComponentName, Float32Array>>> = {};
      for (const f of FAMILIES) {
        const p = probs[f];
        if (!p) continue;
        rowProbs[f] = Object.fromEntries(
          COMPONENTS.map((c) => {
            const K = this.manifest.components[c].conditions.length;
            return [c, p[c].subarray(i * K, (i + 1) * K)];
          }),
        ) as Record<ComponentName, Float32Array>;
      }
      let adaptive: { anomaly: boolean; score: number } | null = null;
      if (this.flags.adaptive) {
        const step = adaptiveStep(this.adaptiveConfig, st, mode, adaptiveInputs[i]);
        if (!independent) st = step.state;
        adaptive = { anomaly: step.vote.anomaly, score: step.vote.score };
      }
      const oc = this.manifest.operatingConditions;
      const bs = this.manifest.baseline;
      let operatingConditions: OperatingConditions | null = null;
      let baseline: { probability: number; weight: number; components: ComponentName[] } | null = null;
      let established: HealthyReference | undefined;
      if (oc && conditions) {
        const c = conditions[i];
        const regime = estimateRegime(oc, c.regime);
        let hasBaseline = false;
        // independent windows (detect requests) belong to no equipment: no baseline to learn or use
        if (bs && !independent) {
          const step = baselineStep(bs, st.baselines, regime, c.baseline);
          st = { ...st, baselines: step.states };
          hasBaseline = step.probability !== null;
          if (step.probability !== null) baseline = { probability: step.probability, weight: bs.weight, components: bs.components };
          if (step.established) established = step.established;
        }
        const cov = coverage(oc, c.coverage);
        operatingConditions = { regime, coverage: cov, hasBaseline, unfamiliar: cov < oc.minCoverage && !hasBaseline };
      }
      const out = combine(cfg, { probabilities: rowProbs, adaptive, baseline, unfamiliar: operatingConditions?.unfamiliar ?? false });
      results.push({ ...out, modelVersion: this.version, mode, operatingConditions, ...(established ? { baselineEstablished: established } : {}) });
    }
    return { results, state: st };
  }

  async close(): Promise<void> {
    await this.windowModels.close();
    await this.sampleModels.close();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
