import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ProblemError } from '../../http/problem.js';
import { detectBody, isWellFormedDetectBody, parseDetectBody } from './detect.schema.js';

const sample = (ts = '2024-05-01T12:00:00.000Z') => ({ ts, values: { PS1: 150, TS1: 40 } });

function zodErrors(input: unknown) {
  try {
    parseDetectBody(input);
    return undefined;
  } catch (error) {
    return error instanceof ProblemError ? { detail: error.detail, errors: error.errors } : error;
  }
}

describe('the fast path for well-formed detect bodies', () => {
  it('takes a window and a single sample as they are', () => {
    const window = { system_id: 'rig-1', equipment_id: 'hydraulic-1', samples: [sample(), sample('2024-05-01T12:00:01+02:00')] };
    expect(isWellFormedDetectBody(window)).toBe(true);
    expect(parseDetectBody(window)).toBe(window);
    expect(isWellFormedDetectBody({ values: { PS1: 1 } })).toBe(true);
  });

  it('leaves anything unusual to zod, which names the fields', () => {
    const bad: unknown[] = [
      null,
      [],
      'x',
      {},
      { values: {}, samples: [sample()] },
      { samples: [] },
      { samples: [sample('2024-05-01 12:00:00')] },
      { samples: [sample('2024-05-01T12:00:00')] },
      { samples: [{ ...sample(), extra: 1 }] },
      { samples: [{ ts: '2024-05-01T12:00:00Z' }] },
      { samples: [{ ts: '2024-05-01T12:00:00Z', values: [] }] },
      { values: { PS1: 1 }, bogus: true },
      { values: null },
      { equipment_id: '', values: {} },
      { equipment_id: '-x', values: {} },
      { system_id: 'a'.repeat(129), values: {} },
      { samples: Array.from({ length: 3601 }, () => sample()) },
    ];
    for (const body of bad) {
      expect(isWellFormedDetectBody(body)).toBe(false);
      expect(zodErrors(body)).toEqual(expect.objectContaining({ errors: expect.any(Array) }));
    }
  });

  // The fast path may only ever accept what zod accepts, and must hand on the same data.
  it('never accepts a body zod rejects (property)', () => {
    // Mostly almost-valid bodies (so both outcomes are common), with hostile parts mixed in.
    const identifier = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('rig-1', 'a', 'A.b:c_d-9') },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', '-x', 'a b', 'ü', 'a'.repeat(129)), fc.string({ maxLength: 4 })) },
    );
    const ts = fc.oneof(
      { weight: 4, arbitrary: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()) },
      {
        weight: 2,
        arbitrary: fc.constantFrom('2024-05-01T12:00:00Z', '2024-05-01T12:00:00+02:00', '2024-05-01T12:00Z', '2024-13-01T12:00:00Z', '2024-05-01T12:00:00.123456789-05:30', '2024-05-01T24:00:00Z', '2024-05-01T12:00:00+24:00', ''),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    );
    const values = fc.oneof(
      { weight: 6, arbitrary: fc.dictionary(fc.oneof({ weight: 12, arbitrary: fc.constantFrom('PS1', 'TS1', 'x') }, { weight: 1, arbitrary: fc.constant('__proto__') }), fc.oneof(fc.double(), fc.string())) },
      { weight: 1, arbitrary: fc.constantFrom(null, [], 'x') },
    );
    const sampleArb = fc.oneof(
      { weight: 8, arbitrary: fc.record({ ts, values }) },
      { weight: 1, arbitrary: fc.record({ ts, values, extra: fc.constant(1) }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.constant(null) },
    );
    const ids = { system_id: identifier, equipment_id: identifier };
    const body = fc.oneof(
      fc.record({ ...ids, samples: fc.array(sampleArb, { maxLength: 4 }) }, { requiredKeys: ['samples'] }),
      fc.record({ ...ids, values }, { requiredKeys: ['values'] }),
      fc.record({ ...ids, values, samples: fc.array(sampleArb, { maxLength: 2 }), other: fc.constant(1) }, { requiredKeys: [] }),
    );
    fc.assert(
      // Through JSON, as bodies arrive (fast-check builds some objects without a prototype).
      fc.property(body.map((b) => JSON.parse(JSON.stringify(b)) as unknown), (b) => {
        if (!isWellFormedDetectBody(b)) return;
        const parsed = detectBody.safeParse(b);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(b);
      }),
      { numRuns: 3000 },
    );
  });
});
