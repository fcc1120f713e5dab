/**
 * A work queue port with one delivery contract for both adapters (NATS JetStream, in-process):
 * - at-least-once: a job is delivered to one consumer at a time; `handler` resolving acks it;
 * - a handler that throws is redelivered after an exponential backoff (nak with delay);
 * - a consumer that dies without acking (crash, closed connection) gets its job redelivered after `ackWaitMs`;
 * - after `maxDeliveries` failed deliveries (or on a delivery beyond it, after a crash on the last one)
 *   `onExhausted` runs once and the job is removed (terminated);
 * - `enqueue` de-duplicates by job id within `duplicateWindowMs` (Nats-Msg-Id).
 * Handlers must be idempotent: redelivery is the recovery mechanism.
 */
export interface Job<T> {
  id: string;
  data: T;
  /** 1 on the first delivery. */
  attempt: number;
  /** Tells the queue the job is still being worked on (extends the ack deadline). */
  working(): void;
}

export interface ConsumeOptions<T> {
  handler(job: Job<T>): Promise<void>;
  /** Runs once when the job will not be delivered again; the job is removed after it resolves. */
  onExhausted(job: Job<T>, error: unknown): Promise<void>;
}

export interface JobConsumer {
  /**
   * Graceful: no new deliveries, waits for the job in hand to finish and be acked.
   * `abandon`: stop at once without acking (what a crash looks like); the job is redelivered after ack wait.
   */
  stop(options?: { abandon?: boolean }): Promise<void>;
}

export interface JobQueueSettings {
  maxDeliveries: number;
  ackWaitMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  duplicateWindowMs: number;
}

export interface JobQueue<T> {
  readonly name: string;
  readonly settings: JobQueueSettings;
  enqueue(id: string, data: T): Promise<{ duplicate: boolean }>;
  consume(options: ConsumeOptions<T>): Promise<JobConsumer>;
  /** Jobs not yet finished (waiting or in flight). */
  depth(): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_JOB_SETTINGS: JobQueueSettings = {
  maxDeliveries: 5,
  ackWaitMs: 30_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  duplicateWindowMs: 24 * 3600_000,
};

/** Delay before delivery `attempt + 1` after delivery `attempt` failed: base * 2^(attempt-1), capped. */
export function backoffDelay(attempt: number, settings: Pick<JobQueueSettings, 'backoffBaseMs' | 'backoffMaxMs'>): number {
  return Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
}

export class MaxDeliveriesExceededError extends Error {
  constructor(readonly attempt: number, readonly maxDeliveries: number) {
    super(`delivery ${attempt} exceeds the maximum of ${maxDeliveries} (the previous delivery did not finish)`);
  }
}
