import { describe, expect, it } from '@jest/globals';
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
