import { describe, expect, it } from '@jest/globals';
import { combine, type ComponentName, type EnsembleConfig } from './ensemble.js';

const t = (v: number) => ({ cooler: v, valve: v, pump: v, accumulator: v });
const cfg: EnsembleConfig = {
  weights: { rf: 0.4, xgb: 0.4, helm: 0.2, adaptive: 0.5 },
  thresholds: { rf: t(0.5), xgb: t(0.5), helm: t(0.9), ensemble: { ...t(0.5), accumulator: 0.7 } },
  components: {
    cooler: { conditions: [100, 20, 3], severity: { '100': 'none', '20': 'high', '3': 'critical' } },
    valve: { conditions: [100, 90, 80, 73], severity: { '100': 'none', '90': 'medium', '80': 'high', '73': 'critical' } },
    pump: { conditions: [0, 1, 2], severity: { '0': 'none', '1': 'medium', '2': 'high' } },
    accumulator: { conditions: [130, 115, 100, 90], severity: { '130': 'none', '115': 'medium', '100': 'high', '90': 'critical' } },
  },
};
const healthy = (): Record<ComponentName, number[]> => ({ cooler: [1, 0, 0], valve: [1, 0, 0, 0], pump: [1, 0, 0], accumulator: [1, 0, 0, 0] });

describe('ensemble vote', () => {
  it('given every model sees healthy components, then no anomaly and severity none', () => {
    const r = combine(cfg, { probabilities: { rf: healthy(), xgb: healthy(), helm: healthy() } });
    expect(r.isAnomaly).toBe(false);
    expect(r.affectedComponent).toBeNull();
    expect(r.severity).toBe('none');
    expect(r.components.valve).toEqual({ condition: 100, degraded: false, probability: 0 });
    expect(Object.keys(r.votes).sort()).toEqual(['helm', 'rf', 'xgb']);
  });

  it('given rf and xgb see valve 80 and helm does not, when weighted (0.4/0.4/0.2), then valve is degraded with condition 80 and severity high', () => {
    const bad = { ...healthy(), valve: [0.1, 0.1, 0.7, 0.1] };
    const r = combine(cfg, { probabilities: { rf: bad, xgb: bad, helm: healthy() } });
    expect(r.components.valve.probability).toBeCloseTo(0.72, 10); // 1 - (0.4*0.1+0.4*0.1+0.2*1)
    expect(r.components.valve).toMatchObject({ degraded: true, condition: 80 });
    expect(r.affectedComponent).toBe('valve');
    expect(r.severity).toBe('high');
    expect(r.votes.rf).toEqual({ weight: 0.4, anomaly: true, score: expect.closeTo(0.9, 6) });
    expect(r.votes.helm.anomaly).toBe(false);
  });

  it('given a component just below its ensemble threshold, then it is not degraded (per-component thresholds)', () => {
    const p = { ...healthy(), accumulator: [0.35, 0.65, 0, 0] }; // P(degraded) 0.65 < 0.7
    const r = combine(cfg, { probabilities: { rf: p, xgb: p } });
    expect(r.components.accumulator.degraded).toBe(false);
    expect(r.isAnomaly).toBe(false);
  });

  it('given only one model is switched on, then its own thresholds apply', () => {
    const p = { ...healthy(), pump: [0.2, 0.1, 0.7] }; // 0.8: above rf's 0.5, below helm's 0.9
    expect(combine(cfg, { probabilities: { rf: p } }).components.pump).toMatchObject({ degraded: true, condition: 2 });
    expect(combine(cfg, { probabilities: { helm: p } }).components.pump.degraded).toBe(false);
  });

  it('given two degraded components, then the worst severity wins and the larger margin is the affected component', () => {
    const p = { ...healthy(), cooler: [0, 0, 1], pump: [0.4, 0.6, 0] };
    const r = combine(cfg, { probabilities: { rf: p, xgb: p, helm: p } });
    expect(r.severity).toBe('critical');
    expect(r.affectedComponent).toBe('cooler');
  });

  it('given only the adaptive vote fires, then it is an anomaly of severity low with no component', () => {
    const r = combine(cfg, { probabilities: { rf: healthy(), xgb: healthy() }, adaptive: { anomaly: true, score: 0.8 } });
    expect(r.isAnomaly).toBe(true);
    expect(r.severity).toBe('low');
    expect(r.affectedComponent).toBeNull();
    expect(r.votes.adaptive).toEqual({ weight: 0.5, anomaly: true, score: 0.8 });
  });

  it('given per-component weights (accumulator: lr 0.75, xgb 0.25), then that component uses them and the others the global weights', () => {
    const cw: EnsembleConfig = {
      ...cfg,
      weights: { ...cfg.weights, lr: 0 },
      componentWeights: { accumulator: { rf: 0, xgb: 0.25, helm: 0, lr: 0.75 } },
      thresholds: { ...cfg.thresholds, lr: t(0.5) },
    };
    const lr = { ...healthy(), accumulator: [0.2, 0, 0.8, 0], valve: [0, 1, 0, 0] };
    const r = combine(cw, { probabilities: { rf: healthy(), xgb: healthy(), helm: healthy(), lr } });
    expect(r.components.accumulator.probability).toBeCloseTo(0.6, 10); // 1 - (0.25*1 + 0.75*0.2)
    expect(r.components.accumulator).toMatchObject({ degraded: false, condition: 130 }); // 0.6 < 0.7
    expect(r.components.valve.probability).toBeCloseTo(0, 10); // lr has global weight 0
    expect(r.votes.lr).toEqual({ weight: 0, anomaly: true, score: expect.closeTo(1, 6) });
    // lr switched off: the accumulator falls back to xgb alone among the enabled models
    const off = combine(cw, { probabilities: { rf: healthy(), xgb: { ...healthy(), accumulator: [0.1, 0.9, 0, 0] }, helm: healthy() } });
    expect(off.components.accumulator).toMatchObject({ degraded: true, condition: 115 });
    // only models with component weight 0 on: the global weights apply
    const glob = combine(cw, { probabilities: { rf: { ...healthy(), accumulator: [0, 1, 0, 0] }, helm: healthy() } });
    expect(glob.components.accumulator.probability).toBeCloseTo(0.4 / 0.6, 10);
  });

  it('given a baseline member for the accumulator, when its reference exists, then it takes its weight of the accumulator only and votes', () => {
    const p = { ...healthy(), accumulator: [0.6, 0.3, 0.1, 0] }; // supervised P(degraded) 0.4 < 0.7
    const r = combine(cfg, { probabilities: { rf: p, xgb: p }, baseline: { probability: 1, weight: 0.5, components: ['accumulator'] } });
    expect(r.components.accumulator.probability).toBeCloseTo(0.7, 10); // 0.5 * 0.4 + 0.5 * 1
    expect(r.components.accumulator).toMatchObject({ degraded: true, condition: 115 });
    expect(r.components.valve.probability).toBe(0);
    expect(r.votes.baseline).toEqual({ weight: 0.5, anomaly: true, score: 1 });
    expect(combine(cfg, { probabilities: { rf: p, xgb: p }, baseline: null }).components.accumulator.probability).toBeCloseTo(0.4, 10);
  });

  it('given unfamiliar operating conditions, then the same verdict carries half the confidence', () => {
    const bad = { ...healthy(), valve: [0.1, 0.1, 0.7, 0.1] };
    const known = combine(cfg, { probabilities: { rf: bad, xgb: bad } });
    const unknown = combine(cfg, { probabilities: { rf: bad, xgb: bad }, unfamiliar: true });
    expect(unknown.isAnomaly).toBe(known.isAnomaly);
    expect(unknown.confidence).toBeCloseTo(known.confidence / 2, 12);
  });

  it('refuses to vote with every supervised model off', () => {
    expect(() => combine(cfg, { probabilities: {} })).toThrow(/no supervised model/);
  });
});
