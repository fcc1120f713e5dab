import { describe, expect, it } from '@jest/globals';
import { loadVectors, toColumns, type SampleVector, type WindowVector } from '../test-support.js';
import { SAMPLE_FEATURE_NAMES, WINDOW_FEATURE_NAMES, sampleFeatures, windowFeatures } from './hydraulic-17.js';

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

describe('feature parity with models/train/features.py', () => {
  const w = loadVectors<WindowVector>('window');
  const s = loadVectors<SampleVector>('sample');

  it('has the same feature names and order as the Python extractor', () => {
    expect([...WINDOW_FEATURE_NAMES]).toEqual(w.featureNames);
    expect([...SAMPLE_FEATURE_NAMES]).toEqual(s.featureNames);
  });

  it('given the committed raw windows, when features are extracted, then they equal Python to 1e-9 (relative)', () => {
    expect(w.cases.length).toBeGreaterThanOrEqual(20);
    for (const c of w.cases) {
      const f = windowFeatures(toColumns(c.window));
      const bad = c.features.map((v, i) => [i, v, f[i]] as const).filter(([, v, g]) => !close(v, g));
      expect(bad.map(([i, v, g]) => `${w.featureNames[i]}: python ${v} ts ${g}`)).toEqual([]);
    }
  });

  it('given the committed single rows, when sample features are extracted, then they equal Python', () => {
    for (const c of s.cases) {
      const f = sampleFeatures(c.values);
      c.features.forEach((v, i) => expect(close(v, f[i])).toBe(true));
    }
  });

  it('rejects a window of the wrong shape', () => {
    expect(() => windowFeatures([new Float64Array(60)])).toThrow(/17 sensor columns/);
    expect(() => sampleFeatures([1, 2, 3])).toThrow(/17 values/);
  });
});
