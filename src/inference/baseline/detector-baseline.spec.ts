/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnomalyDetector, type AdaptiveState } from '../anomaly-detector.js';
import { loadUci } from '../evaluation/uci-data.js';
import { WINDOW_FEATURE_NAMES, windowFeatures } from '../features/hydraulic-17.js';
import { MODELS_DIR } from '../test-support.js';
import { selfDistances, standardise } from './operating-conditions.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const COVER = ['CE.mean', 'CP.mean', 'TS1.mean'];
const TRANSIENT = WINDOW_FEATURE_NAMES.filter((n) => n.includes('.t') && !n.startsWith('TS'));

/**
 * The active version's models with an operatingConditions / baseline section made here (coverage from the
 * sample's cooler-3 and cooler-20 windows only, commissioning 20 windows), in a temp models dir.
 */
function modelsWithBaseline(): { dir: string; windows: Float64Array[][]; cooler: number[] } {
  const data = loadUci(path.join(MODELS_DIR, 'sample'));
  const f = data.windows.map((w) => windowFeatures(w));
  const ci = COVER.map((n) => WINDOW_FEATURE_NAMES.indexOf(n));
  const train = f.filter((_, i) => data.labels!.cooler[i] !== 100).map((x) => ci.map((j) => x[j]));
  const mean = ci.map((_, j) => train.reduce((s, r) => s + r[j], 0) / train.length);
  const std = ci.map((_, j) => Math.sqrt(train.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / train.length));
  const points = train.map((r) => Array.from(standardise(mean, std, r)));
  const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, 'manifest.json'), 'utf8'));
  const v = manifest.versions.find((x: { version: string }) => x.version === manifest.active);
  v.operatingConditions = {
    regimeFeatures: ['CE.mean', 'CP.mean'],
    regimes: [{ id: 'cooler-3', center: [19.3, 1.5], scale: [0.8, 0.1] }, { id: 'cooler-20', center: [27.4, 1.74], scale: [0.5, 0.02] }, { id: 'cooler-100', center: [46.9, 2.16], scale: [1.5, 0.1] }],
    coverageFeatures: COVER,
    mean,
    std,
    points,
    selfDistances: selfDistances(points),
    // 30 training windows: coverage is at least 1/31, so the limit must be above that here
    minCoverage: 0.05,
  };
  v.baseline = { features: TRANSIENT, commissioningWindows: 20, weight: 0.5, components: ['accumulator'] };
  const dir = mkdtempSync(path.join(tmpdir(), 'baseline-spec-'));
  dirs.push(dir);
  symlinkSync(path.join(MODELS_DIR, 'hydraulic-17'), path.join(dir, 'hydraulic-17'));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, versions: [v] }));
  return { dir, windows: data.windows, cooler: data.labels!.cooler };
}

describe('detector with healthy baselines and operating conditions', () => {
  it('given an equipment in one regime, when windows are scored in order, then it commissions 20, establishes the reference once, and the baseline member votes afterwards', async () => {
    const { dir, windows, cooler } = modelsWithBaseline();
    const det = await AnomalyDetector.load({ modelsDir: dir });
    const c100 = windows.filter((_, i) => cooler[i] === 100);
    const series = [...c100, ...c100].slice(0, 26); // 19 distinct cooler-100 windows, repeated
    let state: AdaptiveState | undefined;
    const out = [];
    for (const w of series) {
      const { results, state: next } = await det.scoreColumns([w], state);
      state = next;
      out.push(results[0]);
    }
    expect(out.map((r) => r.operatingConditions?.regime)).toEqual(series.map(() => 'cooler-100'));
    expect(out.findIndex((r) => r.baselineEstablished)).toBe(19);
    expect(out.filter((r) => r.baselineEstablished)).toHaveLength(1);
    expect(out[19].baselineEstablished).toMatchObject({ regime: 'cooler-100', windows: 20, features: TRANSIENT });
    expect(out.slice(0, 20).every((r) => !r.operatingConditions!.hasBaseline && r.votes.baseline === undefined)).toBe(true);
    expect(out.slice(20).every((r) => r.operatingConditions!.hasBaseline && r.votes.baseline !== undefined)).toBe(true);
    // cooler-100 is outside this coverage model's training windows: unfamiliar until the baseline exists
    expect(out[0].operatingConditions).toMatchObject({ unfamiliar: true });
    expect(out[0].operatingConditions!.coverage).toBeLessThan(0.05); // farther out than every training window: 1 / (n + 1)
    expect(out[25].operatingConditions!.unfamiliar).toBe(false);
    // the state is plain JSON (stored by the saga): a round trip changes nothing
    const again = await det.scoreColumns([series[25]], JSON.parse(JSON.stringify(state)) as AdaptiveState);
    const direct = await det.scoreColumns([series[25]], state);
    expect(again.results[0]).toEqual(direct.results[0]);
    // detect requests (independent windows) learn and use no baseline
    const [single] = (await det.scoreColumns([series[0]], undefined, { independent: true })).results;
    expect(single.operatingConditions).toMatchObject({ regime: 'cooler-100', hasBaseline: false, unfamiliar: true });
    expect(single.confidence).toBeCloseTo(out[0].confidence, 12);
    await det.close();
  }, 60_000);

  it('given a version without a coverage model, then verdicts carry operatingConditions null', async () => {
    const det = await AnomalyDetector.load({ modelsDir: MODELS_DIR, version: 'hydraulic-17-1.1.0' });
    const data = loadUci(path.join(MODELS_DIR, 'sample'));
    const { results } = await det.scoreColumns([data.windows[0]]);
    expect(results[0].operatingConditions).toBeNull();
    await det.close();
  }, 60_000);
});
