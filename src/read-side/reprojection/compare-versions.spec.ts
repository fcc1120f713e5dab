import { describe, expect, it } from '@jest/globals';
import { compareVersions, parseProfile, type ComparedWindow } from './compare-versions.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const w = (i: number, isAnomaly: boolean, component: string | null = null): ComparedWindow => ({
  systemId: 's',
  equipmentId: 'e',
  windowStart: T0 + i * 60_000,
  isAnomaly,
  affectedComponent: component,
  degraded: component ? [component] : [],
});

describe('compareVersions', () => {
  it('given two versions, reports per component the windows flagged by one only', () => {
    const base = [w(0, true, 'cooler'), w(1, false), w(2, true, 'valve')];
    const candidate = [w(0, true, 'cooler'), w(1, true, 'pump'), w(2, false)];
    const r = compareVersions('v1', 'v2', base, candidate);
    const by = Object.fromEntries(r.scopes.map((s) => [s.scope, [s.onlyBase, s.onlyCandidate, s.both]]));
    expect(by).toEqual({ any: [1, 1, 1], cooler: [0, 0, 1], valve: [1, 0, 0], pump: [0, 1, 0], accumulator: [0, 0, 0] });
    expect(r.windows).toBe(3);
  });

  it('a window a version never scored counts as not flagged by it', () => {
    const r = compareVersions('v1', 'v2', [], [w(5, true, 'cooler')]);
    expect(r.scopes[0]).toMatchObject({ scope: 'any', onlyCandidate: 1, onlyBase: 0 });
  });

  it('with labels, computes FPR and recall of each version from profile.txt cycles', () => {
    // cycle 0 healthy, cycle 1 cooler fault, cycle 2 healthy, cycle 3 valve fault
    const cycles = parseProfile('100\t100\t0\t130\t0\n20\t100\t0\t130\t1\n100\t100\t0\t130\t0\n100\t80\t0\t130\t0\n');
    const base = [w(0, true, 'cooler'), w(1, true, 'cooler'), w(2, false), w(3, false)];
    const candidate = [w(0, false), w(1, true, 'cooler'), w(2, false), w(3, true, 'valve')];
    const r = compareVersions('v1', 'v2', base, candidate, { cycles, start: T0, cycleMs: 60_000 });
    const any = r.scopes.find((s) => s.scope === 'any')!.labels!;
    expect(any.labelled).toBe(4);
    expect(any.base).toMatchObject({ tp: 1, fp: 1, tn: 1, fn: 1, fpr: 0.5, recall: 0.5 });
    expect(any.candidate).toMatchObject({ tp: 2, fp: 0, tn: 2, fn: 0, fpr: 0, recall: 1 });
    const cooler = r.scopes.find((s) => s.scope === 'cooler')!.labels!;
    expect(cooler.base).toMatchObject({ tp: 1, fp: 1, recall: 1 });
  });

  it('rejects a labels file that is not in profile.txt layout', () => {
    expect(() => parseProfile('100 100 x 130')).toThrow(/line 1/);
  });
});
