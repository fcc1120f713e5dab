/**
 * How a subscription recovers when its connection to the store fails (server restart, leader change,
 * a terminated backend): it opens again from the last handled position after a growing delay, and reports
 * to `onError` only when the attempts are used up. Handler errors are never retried.
 */
export interface ResubscribeOptions {
  /** Consecutive failed attempts before giving up (reset once events flow again). */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** 20 attempts over about 80 s: long enough for a server restart or a leader election. */
export const DEFAULT_RESUBSCRIBE: ResubscribeOptions = Object.freeze({ attempts: 20, initialDelayMs: 100, maxDelayMs: 5_000 });

/** Delay before attempt `attempt` (1-based): doubling from the initial delay, capped. */
export function resubscribeDelay(attempt: number, options: ResubscribeOptions): number {
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}
