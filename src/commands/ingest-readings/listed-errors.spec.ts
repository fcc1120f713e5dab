import { describe, expect, it } from '@jest/globals';
import { INGEST_MAX_LISTED_ERRORS, INGEST_MAX_LISTED_ERROR_BYTES, listedErrors } from './listed-errors.js';
import type { RejectedRow } from './parse-batch.js';

const BATCH = '0b6f1c1e-3f7a-4c52-9a51-2d8e0b7c4a10';
const rows = (n: number, perRow: number, text = 'bad'): RejectedRow[] =>
  Array.from({ length: n }, (_, i) => ({ row: i + 1, raw: null, errors: Array.from({ length: perRow }, (_, j) => ({ field: `f${j}`, message: text })) }));

describe('listed errors of an ingest answer', () => {
  it('given errors that fit, when listed, then all of them and no pointer to more', () => {
    expect(listedErrors(rows(2, 2), BATCH)).toEqual({
      errors: [
        { row: 1, field: 'f0', message: 'bad' },
        { row: 1, field: 'f1', message: 'bad' },
        { row: 2, field: 'f0', message: 'bad' },
        { row: 2, field: 'f1', message: 'bad' },
      ],
      errors_total: 4,
      more_errors: null,
    });
  });

  it('given more errors than the count bound, when listed, then the first ones by row, the total and the quarantine query', () => {
    const listed = listedErrors(rows(3_000, 1), BATCH);
    expect(listed.errors).toHaveLength(INGEST_MAX_LISTED_ERRORS);
    expect(listed.errors[0]).toEqual({ row: 1, field: 'f0', message: 'bad' });
    expect(listed).toMatchObject({ errors_total: 3_000, more_errors: `/api/v1/quarantine?batch_id=${BATCH}` });
  });

  it('given long errors, when listed, then they stop at the byte bound', () => {
    const listed = listedErrors(rows(500, 2, 'm'.repeat(1_000)), BATCH);
    expect(Buffer.byteLength(JSON.stringify(listed.errors))).toBeLessThanOrEqual(INGEST_MAX_LISTED_ERROR_BYTES + 1_100);
    expect(listed.errors.length).toBeLessThan(1_000);
    expect(listed).toMatchObject({ errors_total: 1_000, more_errors: `/api/v1/quarantine?batch_id=${BATCH}` });
  });
});
