import { withinBudget } from '../../queries/response-budget.js';
import type { IngestResult } from './ingest-readings.command.js';
import type { RejectedRow } from './parse-batch.js';

/** Most errors an ingest answer lists: the rest are in the quarantine, by batch id. */
export const INGEST_MAX_LISTED_ERRORS = 1_000;
/** Most bytes of JSON they take (each is at most about 540: row, field and message of ≤ 256 characters). */
export const INGEST_MAX_LISTED_ERROR_BYTES = 512 * 1024;

/**
 * The errors part of an ingest answer: the first errors (by row), how many there are, and where the rest are.
 * Unbounded, 100,000 rows of 21 long reasons each made an answer of about a gigabyte (and the same again in the
 * stored Idempotency-Key response).
 */
export function listedErrors(rejected: readonly RejectedRow[], batchId: string): Pick<IngestResult, 'errors' | 'errors_total' | 'more_errors'> {
  const first: IngestResult['errors'] = [];
  let total = 0;
  for (const r of rejected) {
    total += r.errors.length;
    for (const e of r.errors) if (first.length <= INGEST_MAX_LISTED_ERRORS) first.push({ row: r.row, field: e.field, message: e.message });
  }
  const errors = withinBudget(first.slice(0, INGEST_MAX_LISTED_ERRORS), INGEST_MAX_LISTED_ERROR_BYTES);
  return { errors, errors_total: total, more_errors: errors.length < total ? quarantineOfBatch(batchId) : null };
}

/** Every quarantined row of one batch with all its reasons (paged with `next`), once the projection has it. */
export function quarantineOfBatch(batchId: string): string {
  return `/api/v1/quarantine?batch_id=${batchId}`;
}
