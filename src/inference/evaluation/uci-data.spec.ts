import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SENSORS } from '../features/hydraulic-17.js';
import { componentMetrics } from './metrics.js';
import { loadUci } from './uci-data.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('UCI loader', () => {
  it('given the original download layout (100 Hz / 10 Hz rows), when loaded, then rows are averaged to 60 one-second means', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'uci-'));
    dirs.push(dir);
    const rate = (s: string) => (/^(PS\d|EPS1)$/.test(s) ? 100 : /^FS\d$/.test(s) ? 10 : 1);
    for (const s of SENSORS) {
      const r = rate(s);
      // value = second index + (k within the second) / r  -> mean over a second = s + (r-1)/(2r)
      const row = (off: number) => Array.from({ length: 60 * r }, (_, i) => off + Math.floor(i / r) + (i % r) / r).join('\t');
      writeFileSync(path.join(dir, `${s}.txt`), `${row(0)}\n${row(1000)}\n`);
    }
    writeFileSync(path.join(dir, 'profile.txt'), '100\t100\t0\t130\t0\n3\t73\t2\t90\t1\n');
    const d = loadUci(dir);
    expect(d.windows).toHaveLength(2);
    const ps1 = d.windows[1][SENSORS.indexOf('PS1')];
    expect(ps1).toHaveLength(60);
    expect(ps1[5]).toBeCloseTo(1005 + 99 / 200, 9);
    expect(d.windows[0][SENSORS.indexOf('FS1')][7]).toBeCloseTo(7 + 9 / 20, 9);
    expect(d.windows[0][SENSORS.indexOf('TS1')][7]).toBe(7);
    expect(d.labels!.accumulator).toEqual([130, 90]);
    expect(d.cycles).toEqual([1, 2]);
  });

  it('given a missing sensor file, then it names the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'uci-'));
    dirs.push(dir);
    expect(() => loadUci(dir)).toThrow(/missing sensor file .*PS1\.txt/);
  });
});

describe('component metrics', () => {
  it('given true/predicted class indices, then FPR, recall, accuracy and macro-F1 follow their definitions', () => {
    const m = componentMetrics([0, 0, 0, 0, 1, 2, 2, 1], [0, 0, 0, 1, 1, 2, 1, 0], 3);
    expect(m.fpr).toBeCloseTo(1 / 4, 12);
    expect(m.recall).toBeCloseTo(3 / 4, 12);
    expect(m.accuracy).toBeCloseTo(6 / 8, 12);
    expect(m.macroF1).toBeCloseTo(0.75, 12); // F1 healthy 3/4, degraded 3/4
    expect(m.conditionAccuracy).toBeCloseTo(5 / 8, 12);
    expect(m.confusion).toEqual([[3, 1, 0], [1, 1, 0], [0, 1, 1]]);
  });
});
