import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { checkSensorValues } from './detect-input.js';

const sensors = [
  { id: 'PS1', unit: 'bar', min: 0, max: 250 },
  { id: 'TS1', unit: '°C', min: -20, max: 120 },
];

describe('checkSensorValues', () => {
  it('accepts a complete, in-range sample', () => {
    expect(checkSensorValues({ values: { PS1: 150, TS1: 40 } }, sensors)).toEqual([]);
  });

  it('names each missing, unknown, non-finite and out-of-range field', () => {
    expect(checkSensorValues({ values: { PS1: 900, XX: 1 } }, sensors)).toEqual([
      { field: 'values.PS1', message: 'must be between 0 and 250 bar' },
      { field: 'values.TS1', message: 'is required' },
      { field: 'values.XX', message: 'is not a sensor of this profile' },
    ]);
    expect(
      checkSensorValues({ samples: [{ ts: '2024-01-01T00:00:00Z', values: { PS1: 'NaN', TS1: 1 } }] }, sensors),
    ).toEqual([{ field: 'samples[0].values.PS1', message: 'must be a finite number' }]);
  });
});

describe('checkSensorValues quick check', () => {
  // The check as it was before the quick path: every field named, in this order.
  function reference(values: Record<string, unknown>, prefix: string) {
    const errors: { field: string; message: string }[] = [];
    for (const s of sensors) {
      const v = values[s.id];
      const field = `${prefix}.${s.id}`;
      if (v === undefined) errors.push({ field, message: 'is required' });
      else if (typeof v !== 'number' || !Number.isFinite(v)) errors.push({ field, message: 'must be a finite number' });
      else if (v < s.min || v > s.max) errors.push({ field, message: `must be between ${s.min} and ${s.max} ${s.unit}` });
    }
    for (const key of Object.keys(values)) if (!sensors.some((s) => s.id === key)) errors.push({ field: `${prefix}.${key}`, message: 'is not a sensor of this profile' });
    return errors;
  }

  it('reports exactly what the full check reports, whatever the key order (property)', () => {
    const value = fc.oneof(fc.double({ min: -50, max: 300 }), fc.constantFrom(Infinity, -Infinity, Number.NaN, '1', null), fc.integer({ min: -30, max: 260 }));
    const entry = fc.tuple(fc.constantFrom('PS1', 'TS1', 'XX', '0'), value);
    const values = fc.array(entry, { maxLength: 5 }).map((entries) => Object.fromEntries(entries) as Record<string, unknown>);
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 3 }), (list) => {
        const body = { samples: list.map((v) => ({ ts: '2024-01-01T00:00:00Z', values: v })) };
        expect(checkSensorValues(body, sensors)).toEqual(list.flatMap((v, i) => reference(v, `samples[${i}].values`)));
      }),
      { numRuns: 2000 },
    );
  });
});
