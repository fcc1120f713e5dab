import { describe, expect, it } from '@jest/globals';
import { adaptiveStep, initialAdaptiveState, type AdaptiveConfig, type AdaptiveState } from './adaptive.js';

const cfg: AdaptiveConfig = {
  alpha: 0.05,
  k: 6,
  warmup: 10,
  minSensors: 2,
  window: { features: ['a', 'b', 'c'], mean: [10, 20, 30], std: [1, 1, 1] },
  sample: { features: ['a'], mean: [0], std: [1] },
};

function run(values: number[][], state: AdaptiveState = initialAdaptiveState('v')) {
  const votes = [];
  for (const v of values) {
    const r = adaptiveStep(cfg, state, 'window', v);
    votes.push(r.vote);
    state = r.state;
  }
  return { votes, state };
}

describe('adaptive thresholds', () => {
  it('given fewer than warm-up windows, then it never votes anomaly even far from the baseline', () => {
    const { votes } = run(Array.from({ length: 10 }, () => [100, 100, 100]));
    expect(votes.every((v) => !v.anomaly)).toBe(true);
  });

  it('given an equipment that runs at its own level during warm-up, then that level becomes normal', () => {
    const own = Array.from({ length: 10 }, (_, i) => [13 + (i % 2) * 0.5, 22, 30]);
    const { state } = run(own);
    const after = adaptiveStep(cfg, state, 'window', [13.2, 22, 30]);
    expect(after.vote.anomaly).toBe(false);
    expect(state.window!.mean[0]).toBeGreaterThan(12.5);
  });

  it('given a warmed-up baseline, when two sensors jump by more than k sigma, then it votes anomaly and does not learn the fault', () => {
    const { state } = run(Array.from({ length: 12 }, () => [10, 20, 30]));
    const r = adaptiveStep(cfg, state, 'window', [30, 40, 30]);
    expect(r.vote.anomaly).toBe(true);
    expect(r.vote.outOfLimits).toEqual(['a', 'b']);
    expect(r.state.window!.mean).toEqual(state.window!.mean);
    expect(r.vote.score).toBeGreaterThan(0.5);
  });

  it('given one sensor out of limits (minSensors 2), then no anomaly', () => {
    const { state } = run(Array.from({ length: 12 }, () => [10, 20, 30]));
    expect(adaptiveStep(cfg, state, 'window', [30, 20, 30]).vote.anomaly).toBe(false);
  });

  it('is deterministic: replaying the same inputs from the same state gives identical votes and state', () => {
    const inputs = Array.from({ length: 40 }, (_, i) => [10 + Math.sin(i), 20 + (i > 30 ? 50 : 0), 30 + Math.cos(i)]);
    const a = run(inputs);
    const b = run(inputs);
    expect(JSON.stringify(b)).toEqual(JSON.stringify(a));
    const half = run(inputs.slice(0, 20));
    expect(JSON.stringify(run(inputs.slice(20), half.state).state)).toEqual(JSON.stringify(a.state));
  });

  it('keeps channels apart and never mutates the input state', () => {
    const s0 = initialAdaptiveState('v');
    const frozen = JSON.stringify(s0);
    const r = adaptiveStep(cfg, s0, 'sample', [0.5]);
    expect(JSON.stringify(s0)).toBe(frozen);
    expect(r.state.window).toBeUndefined();
    expect(r.state.sample!.n).toBe(1);
  });
});
