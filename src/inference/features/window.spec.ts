import { describe, expect, it } from '@jest/globals';
import { assemblePackedWindow, assembleWindow, WindowError, type TimedValues, type WindowOptions } from './window.js';

const start = Date.parse('2026-01-01T00:00:00.000Z');
const ts = (s: number) => new Date(start + s * 1000).toISOString();
const sensors = ['A', 'B'];

/** The same samples as the scoring worker receives them: timestamps, and values packed with NaN where not sent. */
const packed = (samples: readonly TimedValues[], opts: WindowOptions) =>
  assemblePackedWindow(
    samples.map((s) => s.ts),
    Float64Array.from(samples.flatMap((s) => opts.sensors.map((id) => s.values[id] ?? Number.NaN))),
    opts,
  );

// Every rule holds for both input forms.
describe.each([
  ['assembleWindow (sample objects)', assembleWindow],
  ['assemblePackedWindow (packed samples)', packed],
])('%s', (_name, assembleWindow) => {
  it('given all 60 seconds, when assembled, then columns are the values in time order', () => {
    const samples = Array.from({ length: 60 }, (_, s) => ({ ts: ts(59 - s), values: { A: 59 - s, B: 2 * (59 - s) } }));
    const [a, b] = assembleWindow(samples, { sensors, seconds: 60 });
    expect(Array.from(a)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(b[10]).toBe(20);
  });

  it('given missing seconds (>= 54 present), when assembled, then gaps are interpolated linearly and edges take the nearest value', () => {
    const keep = Array.from({ length: 60 }, (_, s) => s).filter((s) => ![0, 20, 21, 22, 59].includes(s));
    const samples = keep.map((s) => ({ ts: ts(s), values: { A: s * 10, B: 1 } }));
    const [a] = assembleWindow(samples, { sensors, seconds: 60, start: start });
    expect(a[0]).toBe(10);
    expect(a[21]).toBeCloseTo(210, 12);
    expect(a[59]).toBe(580);
  });

  it('given an epoch-aligned window whose first seconds are missing, when no start is given, then slots stay aligned', () => {
    const samples = Array.from({ length: 57 }, (_, k) => ({ ts: ts(k + 3), values: { A: k + 3, B: 0 } }));
    const [a] = assembleWindow(samples, { sensors, seconds: 60 });
    expect(a[3]).toBe(3);
    expect(a[0]).toBe(3); // nearest value at the leading edge
    expect(a[59]).toBe(59);
  });

  it('given a full cycle that does not start on an epoch-aligned boundary, then the earliest sample starts the window', () => {
    const samples = Array.from({ length: 60 }, (_, k) => ({ ts: ts(k + 30), values: { A: k, B: 0 } }));
    const [a] = assembleWindow(samples, { sensors, seconds: 60 });
    expect(Array.from(a)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('given fewer than 54 present seconds for a sensor, when assembled, then a WindowError names the sensor', () => {
    const samples = Array.from({ length: 60 }, (_, s) => ({ ts: ts(s), values: s < 50 ? { A: 1, B: 1 } : { A: 1 } as Record<string, number> }));
    expect(() => assembleWindow(samples, { sensors, seconds: 60 })).toThrow(WindowError);
    expect(() => assembleWindow(samples, { sensors, seconds: 60 })).toThrow(/sensor B: 50 of 60 seconds present, at least 54 needed/);
  });

  it('rejects samples outside the window, naming the sample and its timestamp as sent', () => {
    const late = '2026-01-01T01:01:01+01:00';
    expect(() => assembleWindow([{ ts: ts(0), values: { A: 1, B: 1 } }, { ts: late, values: { A: 1, B: 1 } }], { sensors, seconds: 60, minPresent: 1 })).toThrow(
      `sample 1 at ${late} is outside the 60-s window starting 2026-01-01T00:00:00.000Z`,
    );
    expect(() => assembleWindow([{ ts: 'yesterday', values: { A: 1, B: 1 } }], { sensors, seconds: 60, minPresent: 1 })).toThrow("sample 0: invalid timestamp 'yesterday'");
  });
});

describe('assembleWindow', () => {
  it('rejects non-finite values', () => {
    expect(() => assembleWindow([{ ts: ts(0), values: { A: Number.NaN, B: 1 } }], { sensors, seconds: 60, minPresent: 1 })).toThrow(/sample 0: A is not a finite number/);
  });
});

describe('assemblePackedWindow', () => {
  it('takes NaN as a value not sent, and refuses values that do not match the samples', () => {
    const [a] = packed([{ ts: ts(0), values: { A: 1, B: 1 } }, { ts: ts(1), values: { A: Number.NaN, B: 1 } }, { ts: ts(2), values: { A: 3, B: 1 } }], { sensors, seconds: 60, minPresent: 2 });
    expect(Array.from(a.subarray(0, 4))).toEqual([1, 2, 3, 3]);
    expect(() => assemblePackedWindow([ts(0)], new Float64Array(3), { sensors, seconds: 60 })).toThrow('3 values for 1 samples of 2 sensors');
  });
});
