import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readingRowSchema } from './reading-row.schema.js';
import { RowPrecheck } from './row-precheck.js';

const good = { system_id: 'rig-1', equipment_id: 'pump.A', sensor_id: 'PS1', ts: '2024-05-01T12:00:00Z', v: 151.2 };

describe('RowPrecheck', () => {
  it('accepts a plain well-formed reading as the schema parses it', () => {
    expect(new RowPrecheck().accept(good)).toEqual(readingRowSchema.parse(good));
  });

  it.each([
    ['a unit (left to the schema)', { ...good, unit: 'bar' }],
    ['a meta object (left to the schema)', { ...good, meta: { q: 1 } }],
    ['an unknown column', { ...good, colour: 'red' }],
    ['a missing field', { system_id: 'rig-1', equipment_id: 'e', sensor_id: 'PS1', ts: good.ts }],
    ['a string value', { ...good, v: '1.5' }],
    ['an infinite value', { ...good, v: Infinity }],
    ['NaN', { ...good, v: Number.NaN }],
    ['a bad identifier', { ...good, sensor_id: '-PS1' }],
    ['an empty identifier', { ...good, system_id: '' }],
    ['a date that does not exist', { ...good, ts: '2023-02-29T00:00:00Z' }],
    ['a timestamp without a zone', { ...good, ts: '2024-05-01T12:00:00' }],
    ['an array', [good]],
    ['null', null],
  ])('defers %s to the schema', (_name, input) => {
    expect(new RowPrecheck().accept(input)).toBeUndefined();
  });

  it('never accepts what the schema rejects, and returns what the schema returns (property)', () => {
    // Weighted towards valid values so that the fast path is taken often enough to say something.
    const identifier = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('rig-1', 'PS1', 'a', 'A.b:c_d-e', 'x'.repeat(128)) },
      { weight: 1, arbitrary: fc.constantFrom('', '-x', 'x y', 'é', 'x'.repeat(129)) },
      { weight: 1, arbitrary: fc.string() },
    );
    const ts = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('2024-05-01T12:00:00Z', '2024-05-01T12:00:00.123+02:00') },
      fc.constantFrom('2024-05-01T12:00:00Z', '2024-05-01T12:00:00.123+02:00', '2023-02-29T00:00:00Z', '1969-12-31T23:59:59Z', '2200-01-01T00:00:00Z', 'x'),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
    );
    const value = fc.oneof({ weight: 6, arbitrary: fc.double() }, fc.integer(), fc.string(), fc.constant(null), fc.boolean());
    const fields = { system_id: identifier, equipment_id: identifier, sensor_id: identifier, ts, v: value, unit: fc.string(), extra: fc.string() };
    const row = fc.oneof(
      fc.record(fields, { requiredKeys: [] }),
      fc.record({ system_id: identifier, equipment_id: identifier, sensor_id: identifier, ts, v: value }),
    );
    const precheck = new RowPrecheck();
    let accepted = 0;
    fc.assert(
      fc.property(row, (input) => {
        const fast = precheck.accept(input);
        const full = readingRowSchema.safeParse(input);
        if (fast !== undefined) {
          accepted++;
          expect(full.success).toBe(true);
          expect(fast).toEqual(full.data);
        }
      }),
      { numRuns: 5000 },
    );
    // The property says something only if the fast path was taken.
    expect(accepted).toBeGreaterThan(100);
  });
});
