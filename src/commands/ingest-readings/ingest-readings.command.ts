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
  errors: { row: number; field: string; message: string }[];
}

export interface IngestOutcome {
  result: IngestResult;
  /** True when an Idempotency-Key matched an earlier request: nothing was appended. */
  replayed: boolean;
}
