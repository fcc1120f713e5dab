/** What ingest backpressure decides from one lag sample; pure (src/commands/ingest-readings/ingest-backpressure.ts samples). */
export interface LagSample {
  /** Age of the oldest event the slowest subscriber has not processed; 0 when every one is at the head. */
  lagSeconds: number;
  /** The slowest subscriber (projection name or `inference-saga`), when one is behind. */
  behind?: string;
}

export type GateDecision = { open: true } | { open: false; retryAfterSeconds: number };

/**
 * The gate closes at 80 % of the bound: what is accepted while the next sample is taken (every 500 ms) and
 * the requests already in flight are then still scored within the bound.
 */
export const CLOSE_AT_FRACTION = 0.8;

export function decideGate(sample: LagSample, maxLagSeconds: number): GateDecision {
  if (maxLagSeconds <= 0 || sample.lagSeconds <= maxLagSeconds * CLOSE_AT_FRACTION) return { open: true };
  // Subscribers catch up faster than real time once intake pauses: by then about half the bound is left.
  const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil(sample.lagSeconds - maxLagSeconds / 2)));
  return { open: false, retryAfterSeconds };
}
