/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AnomalyDetector } from './anomaly-detector.js';
import { COMPONENTS, FAMILIES, combine } from './ensemble.js';
import { SENSORS } from './features/hydraulic-17.js';
import { loadVectors, MODELS_DIR, toColumns, type SampleVector, type WindowVector } from './test-support.js';

let det: AnomalyDetector;
beforeAll(async () => {
  det = await AnomalyDetector.load({ modelsDir: MODELS_DIR });
});
afterAll(async () => det?.close());

describe('ONNX parity: onnxruntime-node vs the Python libraries (predict_proba)', () => {
  for (const mode of ['window', 'sample'] as const) {
    it(`given the committed ${mode} vectors, when every model runs in ORT, then |diff| < 1e-5`, async () => {
      const vec = loadVectors<WindowVector | SampleVector>(mode);
      expect(vec.version).toBe(det.version);
      const F = vec.featureNames.length;
      const n = vec.cases.length;
      const x = new Float32Array(n * F);
      vec.cases.forEach((c, i) => x.set(c.features, i * F));
      const out = await det.runAll(mode === 'window' ? det.models.window : det.models.sample, x, n);
      let max = 0;
      for (const f of FAMILIES)
        for (const c of COMPONENTS) {
          const got = out[f]![c];
          const K = got.length / n;
          vec.cases.forEach((cs, i) => cs.probabilities[f][c].forEach((p, k) => (max = Math.max(max, Math.abs(p - got[i * K + k])))));
        }
      expect(max).toBeLessThan(1e-5);
    });
  }

  it('given a raw window, when scored end to end, then the result is the ensemble of the Python probabilities', async () => {
    const vec = loadVectors<WindowVector>('window');
    const c = vec.cases[vec.cases.length - 1];
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const samples = c.window.map((row, s) => ({ ts: new Date(t0 + s * 1000).toISOString(), values: Object.fromEntries(SENSORS.map((id, j) => [id, row[j]])) }));
    const { result, state } = await det.scoreWindow(samples);
    const expected = combine(
      { weights: det.manifest.ensemble.weights, thresholds: det.manifest.ensemble.thresholds, components: det.manifest.components as never },
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
    const cols = await det.scoreColumns([toColumns(c.window)]);
    expect(cols.results[0].components).toEqual(result.components);
  });

  it('given one sample row, when scored, then sample models answer in mode sample', async () => {
    const vec = loadVectors<SampleVector>('sample');
    const values = Object.fromEntries(SENSORS.map((id, j) => [id, vec.cases[0].values[j]]));
    const { result } = await det.scoreSample(values);
    expect(result.mode).toBe('sample');
    expect(Object.keys(result.votes).sort()).toEqual(['adaptive', 'helm', 'rf', 'xgb']);
    await expect(det.scoreSample({ ...values, PS1: Number.NaN })).rejects.toThrow(/PS1/);
  });
});
