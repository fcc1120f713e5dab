import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { COMPONENTS } from '../ensemble.js';
import { readManifest, selectVersion } from '../registry.js';
import { crossValidate } from './cross-validate.js';
import { recallAtFpr, rocAuc, thresholdAtFpr, thresholded } from './detection-metrics.js';
import { assertCycleOrder, blockFolds, stretchFolds } from './folds.js';
import { extraTrees } from './learners/extra-trees.js';
import type { Learner, Matrix } from './learners/matrix.js';
import { SCHEDULE_AUC, formatProtocols, runProtocols } from './run-protocols.js';
import { loadUci } from './uci-data.js';

const MODELS = path.resolve('models');

describe('folds', () => {
  it('given conditions in cycle order, when stretch folds are built, then each is a maximal run of constant (cooler, component) condition', () => {
    const labels = { cooler: [3, 3, 3, 3, 20, 20, 20], valve: [100, 100, 90, 90, 90, 90, 100], pump: [0, 0, 0, 0, 0, 0, 0], accumulator: [130, 130, 130, 115, 115, 130, 130] };
    expect(stretchFolds(labels, 'accumulator')).toEqual([{ start: 0, end: 3 }, { start: 3, end: 4 }, { start: 4, end: 5 }, { start: 5, end: 7 }]);
    expect(stretchFolds(labels, 'valve')).toEqual([{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 6 }, { start: 6, end: 7 }]);
    expect(stretchFolds(labels, 'pump')).toEqual([{ start: 0, end: 4 }, { start: 4, end: 7 }]);
  });
  it('given n rows, when block folds are built, then they are np.array_split blocks', () => {
    expect(blockFolds(7, 3)).toEqual([{ start: 0, end: 3 }, { start: 3, end: 5 }, { start: 5, end: 7 }]);
  });
  it('given cycle numbers out of order, then the protocol refuses them', () => {
    expect(() => assertCycleOrder([1, 3, 2])).toThrow(/row 3: cycle 2 does not follow 3/);
  });
});

describe('detection metrics', () => {
  it('given scores, then AUC counts ties half and is null without both classes', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(rocAuc([0.5, 0.5], [0, 1])).toBe(0.5);
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNull();
    expect(rocAuc([Number.NaN, 0.1, 0.9], [0, 0, 1])).toBe(1);
  });
  it('given 100 healthy scores, when the threshold allows FPR <= 2 %, then at most two healthy rows are above it', () => {
    const h = Array.from({ length: 100 }, (_, i) => i / 100);
    const t = thresholdAtFpr(h, h.map(() => 0), 0.02);
    expect(h.filter((s) => s > t)).toHaveLength(2);
    expect(recallAtFpr([...h, 0.985, 0.5], [...h.map(() => 0), 1, 1], 0.02)).toBe(0.5);
  });
  it('given per-row thresholds, then FPR, recall and recall per condition are counted per row', () => {
    const f = thresholded([0.9, 0.1, 0.9, 0.2, 0.6], [0.5, 0.5, 0.5, 0.5, 0.7], [130, 130, 115, 90, 90], 130);
    expect(f).toMatchObject({ scored: 5, fpr: 0.5, recall: 1 / 3, recallByCondition: { 115: 1, 90: 0 }, falsePositives: 1, falseNegatives: 2 });
  });
});

describe('nested cross-validation', () => {
  it('given a learner, when a fold is held out, then its threshold does not depend on the held-out rows', () => {
    // the learner scores each row by its own value; the held-out fold's values and labels change, its threshold must not
    const mk = (tail: number[]): Matrix => ({ rows: 12, cols: 1, data: Float64Array.from([0.1, 0.2, 0.9, 0.3, 0.8, 0.15, 0.85, 0.25, ...tail]) });
    const byValue: Learner = (x, _y, _tr, te) => Float64Array.from(te, (r) => x.data[r]);
    const folds = [{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 12 }];
    const y1 = Uint8Array.from([0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1]);
    const y2 = Uint8Array.from([0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    const a = crossValidate({ x: mk([0.99, 0.98, 0.97, 0.96]), degraded: y1, folds, learner: byValue, innerGroups: 2, maxInnerFpr: 0.02, seed: 1 });
    const b = crossValidate({ x: mk([0.01, 0.02, 0.03, 0.04]), degraded: y2, folds, learner: byValue, innerGroups: 2, maxInnerFpr: 0.02, seed: 1 });
    expect(a.folds[2].threshold).toBe(b.folds[2].threshold);
    expect(a.score[8]).toBe(0.99);
  });
  it('given a training part with one class only, then the fold is skipped with a reason and its rows stay unscored', () => {
    const r = crossValidate({ x: { rows: 4, cols: 1, data: Float64Array.from([0, 1, 2, 3]) }, degraded: Uint8Array.from([0, 0, 1, 1]), folds: [{ start: 0, end: 2 }, { start: 2, end: 4 }], learner: extraTrees({ trees: 3 }), innerGroups: 2, maxInnerFpr: 0.02, seed: 1 });
    expect(r.folds.map((f) => f.skipped)).toEqual([expect.stringMatching(/lacks healthy or degraded/), expect.stringMatching(/lacks/)]);
    expect(Number.isNaN(r.score[0])).toBe(true);
  });
  it('given a separable feature, then extra-trees rank degraded above healthy', () => {
    const n = 200;
    const x: Matrix = { rows: n, cols: 2, data: new Float64Array(2 * n) };
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) { y[i] = i % 2; x.data[i] = y[i] + 0.3 * Math.sin(i * 7.1); x.data[n + i] = Math.cos(i * 3.3); }
    const tr = Int32Array.from({ length: 150 }, (_, i) => i), te = Int32Array.from({ length: 50 }, (_, i) => 150 + i);
    const s = extraTrees({ trees: 20 })(x, y, tr, te, 3);
    expect(rocAuc(s, Array.from(te, (r) => y[r]))).toBeGreaterThan(0.95);
  });
});

describe('evaluate: stretch and block protocols on a small slice (models/sample, 48 cycles)', () => {
  it('given the sample, when both protocols run, then every component has a control row beside the models and the figures are bounded', async () => {
    const data = loadUci(path.join(MODELS, 'sample'));
    const v = selectVersion(await readManifest(MODELS));
    const reports = await runProtocols({ data, version: v, modelsDir: MODELS, protocols: ['stretch', 'block'], trees: 10 });
    expect(reports.map((r) => r.protocol)).toEqual(['stretch', 'block']);
    const acc = reports[0].components.find((c) => c.component === 'accumulator')!;
    expect(acc.folds).toBe(stretchFolds(data.labels!, 'accumulator').length);
    expect(acc.folds).toBe(13);
    for (const r of reports)
      for (const c of r.components) {
        expect(c.rows[0].model).toMatch(/^control: .*cycle index/);
        expect(c.rows.some((row) => row.model.startsWith('extra-trees, 605'))).toBe(true);
        expect(c.measuresSchedule).toBe(c.controlAuc !== null && c.controlAuc >= SCHEDULE_AUC);
        for (const row of c.rows) for (const x of [row.auc, row.fpr, row.recall]) if (x !== null) expect(x >= 0 && x <= 1).toBe(true);
        if (c.component !== 'cooler') expect(c.rows.map((row) => row.model)).toContain('extra-trees + baseline');
        expect(c.unfamiliar!.flagged).toBeLessThanOrEqual(c.unfamiliar!.errors);
      }
    expect(reports[0].components.map((c) => c.component)).toEqual([...COMPONENTS]);
    // the cooler's healthy stretch leaves a training part without healthy cycles: reported, not hidden
    expect(reports[0].components[0].rows[0].foldsSkipped).toBe(1);
    const text = formatProtocols(reports, v);
    expect(text).toMatch(/== protocol stretch/);
    expect(text).toMatch(/accumulator: 13 folds/);
    expect(text).toMatch(/margin: best real model AUC - control AUC/);
  }, 60_000);
});
