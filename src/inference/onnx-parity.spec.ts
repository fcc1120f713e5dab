/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AnomalyDetector, WindowError } from './anomaly-detector.js';
import { COMPONENTS, FAMILIES, combine } from './ensemble.js';
import { SENSORS } from './features/hydraulic-17.js';
import { readManifest } from './registry.js';
import { MODELS_DIR, toColumns } from './test-support.js';

interface Vectors {
  version: string;
  featureNames: string[];
  cases: Array<{ features: number[]; window?: number[][]; values?: number[]; probabilities: Record<string, Record<string, number[]>> }>;
}

/** hydraulic-17-1.0.0 wrote models/test-vectors/hydraulic-17-{mode}.json; later versions <version>-{mode}.json. */
function vectorsOf(version: string, mode: 'window' | 'sample'): Vectors {
  const named = path.join(MODELS_DIR, 'test-vectors', `${version}-${mode}.json`);
  const file = existsSync(named) ? named : path.join(MODELS_DIR, 'test-vectors', `hydraulic-17-${mode}.json`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

const manifestVersions = (() => {
  const m = JSON.parse(readFileSync(path.join(MODELS_DIR, 'manifest.json'), 'utf8')) as { versions: Array<{ version: string; windowBundle?: unknown }> };
  return m.versions.map((v) => v.version);
})();
// Each version's window models as the bundle (what the service runs) and as the separate files.
const runs = manifestVersions.flatMap((version) => [
  [version, 'window bundle', true],
  [version, 'one file per model', false],
] as const);

describe.each(runs)('ONNX parity of %s (%s): onnxruntime-node vs the Python libraries (predict_proba)', (version, _how, bundle) => {
  let det: AnomalyDetector;
  beforeAll(async () => {
    det = await AnomalyDetector.load({ modelsDir: MODELS_DIR, version, bundle });
    // the committed manifest bundles every version's window models
    expect(det.models.window.bundled).toBe(bundle);
  });
  afterAll(async () => det?.close());

  for (const mode of ['window', 'sample'] as const) {
    it(`given the committed ${mode} vectors, when every model runs in ORT, then |diff| < 1e-5`, async () => {
      const vec = vectorsOf(version, mode);
      expect(vec.version).toBe(det.version);
      const F = vec.featureNames.length;
      const n = vec.cases.length;
      const x = new Float32Array(n * F);
      vec.cases.forEach((c, i) => x.set(c.features, i * F));
      const out = await det.runAll(mode === 'window' ? det.models.window : det.models.sample, x, n);
      const v = det.manifest;
      const fams = FAMILIES.filter((f) => (mode === 'window' ? v.models : v.sampleModels)[f] !== undefined);
      expect(Object.keys(out).sort()).toEqual([...fams].sort());
      let max = 0;
      for (const f of fams)
        for (const c of COMPONENTS) {
          const got = out[f]![c];
          const K = got.length / n;
          vec.cases.forEach((cs, i) => cs.probabilities[f][c].forEach((p, k) => (max = Math.max(max, Math.abs(p - got[i * K + k])))));
        }
      expect(max).toBeLessThan(1e-5);
    });
  }

  it('given the committed window vectors, when run as one batch and one row at a time, then the outputs are bit-identical', async () => {
    // what lets the scoring worker batch independent detect requests: a row's result does not depend on its batch
    const vec = vectorsOf(version, 'window');
    const F = vec.featureNames.length;
    const n = vec.cases.length;
    const x = new Float32Array(n * F);
    vec.cases.forEach((c, i) => x.set(c.features, i * F));
    const batch = await det.runAll(det.models.window, x, n);
    let differing = 0;
    for (let i = 0; i < n; i++) {
      const one = await det.runAll(det.models.window, x.slice(i * F, (i + 1) * F), 1);
      for (const f of Object.keys(one) as (keyof typeof one)[])
        for (const c of COMPONENTS) {
          const K = one[f]![c].length;
          one[f]![c].forEach((p, k) => (differing += Object.is(p, batch[f]![c][i * K + k]) ? 0 : 1));
        }
    }
    expect(n).toBeGreaterThan(1);
    expect(differing).toBe(0);
  });

  it('given a raw window, when scored end to end, then the result is the ensemble of the Python probabilities', async () => {
    const vec = vectorsOf(version, 'window');
    const c = vec.cases[vec.cases.length - 1];
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const samples = c.window!.map((row, s) => ({ ts: new Date(t0 + s * 1000).toISOString(), values: Object.fromEntries(SENSORS.map((id, j) => [id, row[j]])) }));
    const { result, state } = await det.scoreWindow(samples);
    const expected = combine(
      {
        weights: det.manifest.ensemble.weights,
        componentWeights: det.manifest.ensemble.componentWeights,
        thresholds: det.manifest.ensemble.thresholds,
        components: det.manifest.components as never,
      },
      { probabilities: c.probabilities as never, adaptive: null },
    );
    for (const comp of COMPONENTS) {
      expect(result.components[comp].degraded).toBe(expected.components[comp].degraded);
      expect(result.components[comp].condition).toBe(expected.components[comp].condition);
      expect(Math.abs(result.components[comp].probability - expected.components[comp].probability)).toBeLessThan(1e-5);
    }
    expect(result.mode).toBe('window');
    expect(result.modelVersion).toBe(det.version);
    expect(state.window?.n).toBe(1);
    // same window via the batch path and the column path
    const batch = await det.scoreWindows([samples, samples]);
    expect(batch.results[0].components).toEqual(result.components);
    const cols = await det.scoreColumns([toColumns(c.window!)]);
    expect(cols.results[0].components).toEqual(result.components);
    // packed and independent (detect's worker): each window as if scored alone, a bad one gets its WindowError
    const packed = { ts: samples.map((s) => s.ts), values: Float64Array.from(c.window!.flat()) };
    const independent = await det.scorePackedWindows([packed, { ts: packed.ts.slice(0, 30), values: packed.values.slice(0, 30 * 17) }, packed]);
    expect(independent[0]).toEqual(result);
    expect(independent[1]).toBeInstanceOf(WindowError);
    expect(independent[2]).toEqual(result);
  });

  it('given one sample row, when scored, then sample models answer in mode sample', async () => {
    const vec = vectorsOf(version, 'sample');
    const values = Object.fromEntries(SENSORS.map((id, j) => [id, vec.cases[0].values![j]]));
    const { result } = await det.scoreSample(values);
    expect(result.mode).toBe('sample');
    expect(Object.keys(result.votes).sort()).toEqual(['adaptive', 'helm', 'rf', 'xgb']);
    await expect(det.scoreSample({ ...values, PS1: Number.NaN })).rejects.toThrow(/PS1/);
  });
});

describe('model versions in the manifest', () => {
  it('given the committed manifest, when read, then every version has parity vectors and 1.0.0 is still present', async () => {
    const m = await readManifest(MODELS_DIR);
    expect(m.versions.map((v) => v.version)).toContain('hydraulic-17-1.0.0');
    for (const v of m.versions) for (const mode of ['window', 'sample'] as const) expect(vectorsOf(v.version, mode).version).toBe(v.version);
  });
});
