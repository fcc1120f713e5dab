import type { IngestSource } from './parse-batch.js';

export interface RequestContext {
  correlationId: string;
  /** API key id, or 'anonymous' when authentication is off. */
  actor: string;
}

export class IngestReadingsCommand {
  constructor(
    readonly source: IngestSource,
    /** Parsed JSON, or the CSV text. */
    readonly body: unknown,
    readonly context: RequestContext,
    readonly idempotencyKey?: string,
  ) {}
}

export interface IngestResult {
  batch_id: string;
  accepted: number;
  quarantined: number;
  /** The first errors (listed-errors.ts); all of them are in the quarantine. */
  errors: { row: number; field: string; message: string }[];
  /** How many errors the batch had (each row's reasons bounded at 20 and a count). */
  errors_total: number;
  /** The quarantine query listing every error of the batch, when `errors` does not; else null. */
  more_errors: string | null;
}

export interface IngestOutcome {
  result: IngestResult;
  /** True when an Idempotency-Key matched an earlier request: nothing was appended. */
  replayed: boolean;
}
