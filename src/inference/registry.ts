/**
 * Model registry: reads models/manifest.json, checks it, and opens the ONNX sessions.
 *
 * Fails fast (RegistryError naming the file and the problem) when: the manifest is missing or
 * malformed, the requested version is absent, the profile has no feature extractor, the manifest's
 * feature order differs from the TypeScript extractor's, a model file is missing, its sha256 differs
 * from the manifest, or a session's input/outputs do not have the manifest's shape.
 * Sessions: onnxruntime-node, intraOpNumThreads 1, interOpNumThreads 1. When a version has a window bundle
 * (every window model in one graph, models/train/bundle.py) and exactly its families are enabled, the
 * window models run as that one session: the same outputs for one native call instead of one per model.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { COMPONENTS, FAMILIES, type ComponentName, type Family } from './ensemble.js';
import { SAMPLE_FEATURE_NAMES, WINDOW_FEATURE_NAMES } from './features/hydraulic-17.js';

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

const componentRecord = <T extends z.ZodType>(t: T) =>
  z.object({ cooler: t, valve: t, pump: t, accumulator: t });
const thresholdSet = componentRecord(z.number().min(0).max(1));
const fileSpec = z.object({
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: z.string().default('features'),
  inputShape: z.tuple([z.number(), z.number().int().positive()]).optional(),
  outputs: componentRecord(z.string()).optional(),
});
// lr: optional (hydraulic-17-1.1.0 on, window models only)
const familyFiles = z.object({ rf: fileSpec, xgb: fileSpec, helm: fileSpec, lr: fileSpec.optional() });
const bundleSpec = z.object({
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: z.string().default('features'),
  families: z.array(z.enum(FAMILIES)).min(1),
  /** family -> component -> the bundle's output name */
  outputs: z.partialRecord(z.enum(FAMILIES), componentRecord(z.string())),
});
const thresholds = z.object({ rf: thresholdSet, xgb: thresholdSet, helm: thresholdSet, lr: thresholdSet.optional(), ensemble: thresholdSet });
const familyWeights = z.object({ rf: z.number().min(0), xgb: z.number().min(0), helm: z.number().min(0), lr: z.number().min(0) }).partial();
const channel = z.object({ features: z.array(z.string()), mean: z.array(z.number()), std: z.array(z.number().positive()) });
const severity = z.enum(['none', 'low', 'medium', 'high', 'critical']);
const numberRows = z.custom<number[][]>(
  (v) => Array.isArray(v) && v.length >= 2 && v.every((r) => Array.isArray(r) && r.every((x) => typeof x === 'number' && Number.isFinite(x))),
  'must be at least 2 rows of finite numbers',
);

export const manifestVersionSchema = z.object({
  version: z.string().min(1),
  /** When the version entered the registry (models/train/train.py writes it). */
  created: z.iso.datetime({ offset: true }).optional(),
  profile: z.string().min(1),
  dutyCycleSeconds: z.number().int().positive(),
  sampleRateHz: z.number().positive().default(1),
  sensors: z.array(z.object({ id: z.string(), unit: z.string(), min: z.number(), max: z.number() })).min(1),
  components: componentRecord(
    z.object({ conditions: z.array(z.number()).min(2), healthy: z.number(), severity: z.record(z.string(), severity) }),
  ),
  features: z.object({ window: z.array(z.string()), sample: z.array(z.string()) }),
  models: familyFiles,
  sampleModels: familyFiles,
  /** the window models of `models` in one ONNX graph (optional; models/train/bundle.py) */
  windowBundle: bundleSpec.optional(),
  ensemble: z.object({
    weights: z.object({ rf: z.number().min(0), xgb: z.number().min(0), helm: z.number().min(0), lr: z.number().min(0).optional(), adaptive: z.number().min(0) }),
    /** per-component weights of the window ensemble (override `weights` for that component) */
    componentWeights: componentRecord(familyWeights).partial().optional(),
    thresholds,
    sampleThresholds: thresholds,
  }),
  adaptive: z.object({
    window: channel,
    sample: channel,
    alpha: z.number().gt(0).lt(1),
    k: z.number().positive(),
    warmup: z.number().int().min(0),
    minSensors: z.number().int().positive(),
  }),
  /**
   * Operating regimes and the training data's coverage of operating conditions (1.2.0 on; docs/models.md §3
   * "Unfamiliar conditions"); without it verdicts carry operatingConditions: null.
   */
  operatingConditions: z
    .object({
      regimeFeatures: z.array(z.string()).min(1),
      regimes: z.array(z.object({ id: z.string().min(1), center: z.array(z.number()), scale: z.array(z.number().positive()) })).min(1),
      coverageFeatures: z.array(z.string()).min(1),
      mean: z.array(z.number()),
      std: z.array(z.number()),
      // thousands of numbers: checked by one loop (zod's per-element parse took ~0.4 s at start-up)
      points: numberRows,
      selfDistances: z.custom<number[]>((v) => Array.isArray(v) && v.length >= 2 && v.every((x) => typeof x === 'number' && x >= 0), 'must be at least 2 non-negative numbers'),
      minCoverage: z.number().min(0).max(1),
    })
    .optional(),
  /** per-equipment healthy baselines and the baseline-deviation member (1.2.0 on; needs operatingConditions) */
  baseline: z
    .object({
      features: z.array(z.string()).min(1),
      commissioningWindows: z.number().int().min(20),
      weight: z.number().min(0).max(1),
      components: z.array(z.enum(COMPONENTS)),
    })
    .optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  cv: z
    .object({
      protocol: z.string(),
      folds: z.array(
        z.object({
          fold: z.number().int(),
          testCycles: z.tuple([z.number().int(), z.number().int()]),
          thresholds,
          files: z.record(z.string(), z.object({ path: z.string(), sha256: z.string() })),
        }),
      ),
      metrics: z.unknown(),
    })
    .nullable()
    .optional(),
});
export type ManifestVersion = z.infer<typeof manifestVersionSchema>;
export type ModelFileSpec = z.infer<typeof fileSpec>;
export type BundleSpec = z.infer<typeof bundleSpec>;
export type Thresholds = z.infer<typeof thresholds>;

export const manifestSchema = z.object({
  schemaVersion: z.literal(1),
  active: z.string().min(1),
  versions: z.array(manifestVersionSchema).min(1),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const SUPPORTED_PROFILES = ['hydraulic-17'] as const;

export async function readManifest(modelsDir: string): Promise<Manifest> {
  const file = path.join(modelsDir, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (e) {
    throw new RegistryError(`${file}: cannot read the model manifest (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new RegistryError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryError(`${file}: invalid manifest at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Picks `version` (default: the manifest's active one) and checks its feature contract. */
export function selectVersion(manifest: Manifest, version?: string, file = 'manifest.json'): ManifestVersion {
  const want = version ?? manifest.active;
  const v = manifest.versions.find((x) => x.version === want);
  if (!v) throw new RegistryError(`${file}: version '${want}' not found (have: ${manifest.versions.map((x) => x.version).join(', ')})`);
  if (!(SUPPORTED_PROFILES as readonly string[]).includes(v.profile))
    throw new RegistryError(`${file}: version '${want}' has profile '${v.profile}', which has no feature extractor`);
  checkNames(`${file}: version '${want}' window features`, v.features.window, WINDOW_FEATURE_NAMES);
  checkNames(`${file}: version '${want}' sample features`, v.features.sample, SAMPLE_FEATURE_NAMES);
  for (const mode of ['window', 'sample'] as const) {
    const ch = v.adaptive[mode];
    if (ch.mean.length !== ch.features.length || ch.std.length !== ch.features.length)
      throw new RegistryError(`${file}: version '${want}' adaptive.${mode}: mean/std/features lengths differ`);
  }
  const oc = v.operatingConditions;
  const unknownFeature = (names: readonly string[]) => names.find((n) => !WINDOW_FEATURE_NAMES.includes(n));
  if (oc) {
    const bad = unknownFeature([...oc.regimeFeatures, ...oc.coverageFeatures]);
    if (bad) throw new RegistryError(`${file}: version '${want}' operatingConditions: '${bad}' is not a window feature`);
    const F = oc.coverageFeatures.length;
    if (oc.mean.length !== F || oc.std.length !== F || oc.points.some((p) => p.length !== F))
      throw new RegistryError(`${file}: version '${want}' operatingConditions: mean/std/points lengths differ from coverageFeatures`);
    if (oc.regimes.some((r) => r.center.length !== oc.regimeFeatures.length || r.scale.length !== oc.regimeFeatures.length))
      throw new RegistryError(`${file}: version '${want}' operatingConditions: a regime's centre/scale length differs from regimeFeatures`);
  }
  if (v.baseline) {
    if (!oc) throw new RegistryError(`${file}: version '${want}' baseline needs operatingConditions (its regimes)`);
    const bad = unknownFeature(v.baseline.features);
    if (bad) throw new RegistryError(`${file}: version '${want}' baseline: '${bad}' is not a window feature`);
  }
  return v;
}

function checkNames(what: string, got: readonly string[], want: readonly string[]): void {
  if (got.length !== want.length) throw new RegistryError(`${what}: ${got.length} names, the extractor produces ${want.length}`);
  for (let i = 0; i < want.length; i++)
    if (got[i] !== want[i]) throw new RegistryError(`${what}: feature ${i} is '${got[i]}', the extractor produces '${want[i]}'`);
}

export async function readVerified(modelsDir: string, spec: { path: string; sha256: string }): Promise<Uint8Array> {
  const file = path.resolve(modelsDir, spec.path);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new RegistryError(`${file}: cannot read model file (${(e as Error).message})`);
  }
  const got = createHash('sha256').update(buf).digest('hex');
  if (got !== spec.sha256) throw new RegistryError(`${file}: sha256 mismatch (manifest ${spec.sha256}, file ${got})`);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

export type Probabilities = Record<ComponentName, Float32Array>;
type OutputNames = Record<ComponentName, string>;
/** One ONNX session and, per family it computes, the output name of each component. */
type OpenSession = { session: ort.InferenceSession; input: string; outputs: Partial<Record<Family, OutputNames>> };
type FileRef = { path: string; sha256: string; input?: string; outputs?: OutputNames };
/** What a model run is reported as: one family, or `bundle` for all window models in one session. */
export type ModelRunLabel = Family | 'bundle';

const defaultOutputs = (): OutputNames => Object.fromEntries(COMPONENTS.map((c) => [c, `${c}_probabilities`])) as OutputNames;

/** The sessions of one model set (window or sample models of one version or CV fold). */
export class ModelSet {
  /** the families this set runs, in FAMILIES order */
  readonly families: readonly Family[];

  private constructor(
    readonly nFeatures: number,
    readonly classes: Record<ComponentName, number>,
    /** one session per family, or a single bundle session holding them all */
    private readonly sessions: OpenSession[],
    readonly bundled: boolean,
  ) {
    this.families = FAMILIES.filter((f) => sessions.some((s) => s.outputs[f]));
  }

  /**
   * Opens the enabled families' files, or the bundle instead when it holds exactly the families that
   * would be opened (a family switched off by a flag must not run, so then the files are opened one by one).
   */
  static async open(
    modelsDir: string,
    files: Partial<Record<Family, FileRef>>,
    nFeatures: number,
    classes: Record<ComponentName, number>,
    enabled: Partial<Record<Family, boolean>>,
    bundle?: BundleSpec,
  ): Promise<ModelSet> {
    const wanted = FAMILIES.filter((f) => enabled[f] && files[f]); // a version may lack a family (lr before 1.1.0)
    const useBundle = bundle !== undefined && wanted.length === bundle.families.length && wanted.every((f) => bundle.families.includes(f));
    const sessions: OpenSession[] = [];
    try {
      if (useBundle) {
        const outputs: Partial<Record<Family, OutputNames>> = {};
        for (const f of wanted) {
          const names = bundle.outputs[f];
          if (!names) throw new RegistryError(`${path.resolve(modelsDir, bundle.path)}: the manifest lists no outputs for ${f}`);
          outputs[f] = names;
        }
        sessions.push(await openSession(modelsDir, bundle, bundle.input, outputs, nFeatures, classes));
      } else {
        for (const f of wanted) {
          const spec = files[f]!;
          sessions.push(await openSession(modelsDir, spec, spec.input ?? 'features', { [f]: spec.outputs ?? defaultOutputs() }, nFeatures, classes));
        }
      }
    } catch (e) {
      for (const s of sessions) await s.session.release();
      throw e;
    }
    return new ModelSet(nFeatures, classes, sessions, useBundle);
  }

  has(f: Family): boolean {
    return this.families.includes(f);
  }

  /**
   * Every family's probabilities for n feature rows (x: n rows of nFeatures float32 values): component ->
   * n x K probabilities (row-major). `observe` gets each session run's duration in seconds.
   */
  async runAll(x: Float32Array, n: number, observe: (label: ModelRunLabel, seconds: number) => void = () => {}): Promise<Partial<Record<Family, Probabilities>>> {
    if (x.length !== n * this.nFeatures) throw new Error(`model set: ${x.length} values for ${n} rows of ${this.nFeatures}`);
    const out: Partial<Record<Family, Probabilities>> = {};
    // All runs are issued at once: onnxruntime-node runs each synchronously in its own setImmediate, so they
    // execute back to back in one pass of the event loop instead of one loop turn (and other requests'
    // work in between) per model. A run's duration is then the time since the previous run finished.
    let last = performance.now();
    await Promise.all(
      this.sessions.map(async (s) => {
        const res = await s.session.run({ [s.input]: new ort.Tensor('float32', x, [n, this.nFeatures]) });
        const now = performance.now();
        observe(this.bundled ? 'bundle' : (Object.keys(s.outputs)[0] as Family), (now - last) / 1000);
        last = now;
        for (const [f, names] of Object.entries(s.outputs) as [Family, OutputNames][]) {
          const p = {} as Probabilities;
          for (const c of COMPONENTS) p[c] = res[names[c]].data as Float32Array;
          out[f] = p;
        }
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) await s.session.release();
  }
}

/** Opens one model file, checking its sha256, input width and every listed output's shape (a dry run). */
async function openSession(
  modelsDir: string,
  spec: { path: string; sha256: string },
  input: string,
  outputs: Partial<Record<Family, OutputNames>>,
  nFeatures: number,
  classes: Record<ComponentName, number>,
): Promise<OpenSession> {
  const file = path.resolve(modelsDir, spec.path);
  const bytes = await readVerified(modelsDir, spec);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (e) {
    throw new RegistryError(`${file}: onnxruntime cannot load the model (${(e as Error).message})`);
  }
  try {
    if (!session.inputNames.includes(input)) throw new RegistryError(`${file}: no input '${input}' (has ${session.inputNames.join(', ')})`);
    const meta = (session as unknown as { inputMetadata?: Array<{ name: string; shape?: unknown[] }> }).inputMetadata;
    const im = meta?.find((m) => m.name === input);
    const last = im?.shape?.[im.shape.length - 1];
    if (typeof last === 'number' && last !== nFeatures)
      throw new RegistryError(`${file}: input '${input}' takes ${last} features, the manifest lists ${nFeatures}`);
    const names = Object.values(outputs).flatMap((o) => COMPONENTS.map((c) => o[c]));
    for (const name of names) if (!session.outputNames.includes(name)) throw new RegistryError(`${file}: no output '${name}'`);
    // dry run: shapes of every output
    const probe = await session.run({ [input]: new ort.Tensor('float32', new Float32Array(nFeatures), [1, nFeatures]) });
    for (const o of Object.values(outputs))
      for (const c of COMPONENTS) {
        const t = probe[o[c]];
        if (!t || t.dims.length !== 2 || t.dims[1] !== classes[c])
          throw new RegistryError(`${file}: output '${o[c]}' has shape [${t?.dims.join(', ')}], expected [1, ${classes[c]}]`);
      }
  } catch (e) {
    await session.release();
    throw e;
  }
  return { session, input, outputs };
}

export function classCounts(v: ManifestVersion): Record<ComponentName, number> {
  return Object.fromEntries(COMPONENTS.map((c) => [c, v.components[c].conditions.length])) as Record<ComponentName, number>;
}
