/** What ingest backpressure decides from one lag sample; pure (src/commands/ingest-readings/ingest-backpressure.ts samples). */
export interface LagSample {
  /** Age of the oldest event the slowest subscriber has not processed; 0 when every one is at the head. */
  lagSeconds: number;
  /** The slowest subscriber (projection name or `inference-saga`), when one is behind. */
  behind?: string;
}

export type GateDecision = { open: true } | { open: false; retryAfterSeconds: number };

/**
 * The gate closes at 40 % of the bound. The lag is the age of the oldest unprocessed event; what was accepted
 * before the gate closed still has to be worked through, at the subscriber's pace. At twice the rate the
 * subscriber sustains, the last event accepted waits about twice the lag at closing: 80 % of the bound.
 */
export const CLOSE_AT_FRACTION = 0.4;

export function decideGate(sample: LagSample, maxLagSeconds: number): GateDecision {
  if (maxLagSeconds <= 0 || sample.lagSeconds <= maxLagSeconds * CLOSE_AT_FRACTION) return { open: true };
  // Roughly when the lag is back under the closing point, if the subscriber works at real-time pace.
  const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil(sample.lagSeconds - maxLagSeconds * CLOSE_AT_FRACTION)));
  return { open: false, retryAfterSeconds };
}
