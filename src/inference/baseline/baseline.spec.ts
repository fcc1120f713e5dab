import { describe, expect, it } from '@jest/globals';
import { baselineStep, type BaselineSpec, type BaselineStates } from './baseline-state.js';
import { baselineProbability, buildReference, deviationRatio, MIN_REFERENCE_WINDOWS } from './healthy-baseline.js';
import { coverage, coverageOf, estimateRegime, nearestDistance, nearestDistanceSorted, selfDistances, type OperatingConditionsSpec } from './operating-conditions.js';

// deterministic pseudo-noise
const noise = (i: number, j: number) => { const s = Math.sin(i * 12.9898 + j * 78.233) * 43758.5453; return s - Math.floor(s) - 0.5; };
const healthyRow = (i: number) => [10 + noise(i, 0), 5 + noise(i, 1), -3 + noise(i, 2)];

describe('healthy baseline', () => {
  it('given healthy windows, when a reference is built, then healthy windows sit near ratio 1 and a shifted window far above', () => {
    const ref = buildReference('r', ['a', 'b', 'c'], Array.from({ length: 60 }, (_, i) => healthyRow(i)));
    expect(ref.windows).toBe(60);
    expect(ref.mean[0]).toBeCloseTo(10, 0);
    const healthyRatios = Array.from({ length: 40 }, (_, i) => deviationRatio(ref, healthyRow(100 + i)));
    expect(Math.max(...healthyRatios)).toBeLessThan(1.6);
    const shifted = deviationRatio(ref, [10, 5 + 3, -3]); // one feature ~8 sigma off
    expect(shifted).toBeGreaterThan(3);
    expect(baselineProbability(1)).toBeCloseTo(0.5, 12);
    expect(baselineProbability(shifted)).toBeGreaterThan(0.99);
  });

  it('given too few windows, then no reference is established', () => {
    expect(() => buildReference('r', ['a', 'b', 'c'], Array.from({ length: MIN_REFERENCE_WINDOWS - 1 }, (_, i) => healthyRow(i)))).toThrow(/at least 20 windows/);
  });

  it('given an equipment, when windows of a regime arrive, then it commissions N windows, establishes the reference once, then scores', () => {
    const spec: BaselineSpec = { features: ['a', 'b', 'c'], commissioningWindows: 25, weight: 0.5, components: ['accumulator'] };
    let states: BaselineStates | undefined;
    const established: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = baselineStep(spec, states, 'cooler-100', healthyRow(i));
      states = r.states;
      if (r.established) established.push(i);
      expect(r.probability === null).toBe(i < 25);
    }
    expect(established).toEqual([24]);
    // another regime starts its own commissioning; the first keeps its reference
    const other = baselineStep(spec, states, 'cooler-3', healthyRow(0));
    expect(other.probability).toBeNull();
    expect(other.states['cooler-100'].reference?.windows).toBe(25);
    // state is plain JSON: a round trip through the database changes nothing
    const again = baselineStep(spec, JSON.parse(JSON.stringify(states)) as BaselineStates, 'cooler-100', healthyRow(99));
    expect(again.probability).toBe(baselineStep(spec, states, 'cooler-100', healthyRow(99)).probability);
  });
});

describe('operating conditions', () => {
  const pts = Array.from({ length: 50 }, (_, i) => [2 * noise(i, 3), 2 * noise(i, 4)]);
  const spec: OperatingConditionsSpec = {
    regimeFeatures: ['CE.mean'],
    regimes: [{ id: 'cooler-3', center: [19], scale: [1] }, { id: 'cooler-100', center: [47], scale: [1] }],
    coverageFeatures: ['x', 'y'],
    mean: [0, 0],
    std: [1, 1],
    points: pts,
    selfDistances: selfDistances(pts),
    minCoverage: 0.01,
  };
  it('given a window, then the regime is the nearest centre', () => {
    expect(estimateRegime(spec, [20.5])).toBe('cooler-3');
    expect(estimateRegime(spec, [40])).toBe('cooler-100');
  });
  it('given a window inside the training cloud, then coverage is high; far outside, 1/(n+1)', () => {
    expect(coverage(spec, [0, 0])).toBeGreaterThan(0.3);
    expect(coverage(spec, [50, 50])).toBeCloseTo(1 / 51, 12);
    expect(coverageOf([0.1, 0.2, 0.3], 0.2)).toBeCloseTo(3 / 4, 12);
  });
  it('given any query, then the sorted search finds the same nearest distance as the full scan', () => {
    for (let i = 0; i < 200; i++) {
      const z = [3 * noise(i, 7), 3 * noise(i, 8)];
      expect(nearestDistanceSorted(spec, z)).toBe(nearestDistance(pts, z));
    }
  });
});
