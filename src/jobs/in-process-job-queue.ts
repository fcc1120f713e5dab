import { metrics } from '../observability/metrics.js';
import {
  backoffDelay,
  DEFAULT_JOB_SETTINGS,
  MaxDeliveriesExceededError,
  type ConsumeOptions,
  type Job,
  type JobConsumer,
  type JobQueue,
  type JobQueueSettings,
} from './job-queue.js';

interface Entry<T> {
  id: string;
  data: T;
  deliveries: number;
  availableAt: number;
  /** Identifies the current delivery: an ack from an expired or abandoned delivery is ignored. */
  token: number;
  inflight: boolean;
  ackTimer?: NodeJS.Timeout;
}

/**
 * The embedded-mode adapter (no NATS_URL): the same contract as the JetStream work queue, in memory.
 * Jobs do not survive a restart here; the analysis stream records every request, so nothing is lost
 * silently (an analysis left 'requested' can be asked for again).
 */
export class InProcessJobQueue<T> implements JobQueue<T> {
  readonly settings: JobQueueSettings;
  private readonly entries = new Map<string, Entry<T>>();
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private nextToken = 1;
  private closed = false;

  constructor(
    readonly name: string,
    settings: Partial<JobQueueSettings> = {},
  ) {
    this.settings = { ...DEFAULT_JOB_SETTINGS, ...settings };
  }

  async enqueue(id: string, data: T): Promise<{ duplicate: boolean }> {
    const now = Date.now();
    for (const [k, at] of this.seen) if (now - at > this.settings.duplicateWindowMs) this.seen.delete(k);
    if (this.seen.has(id)) return { duplicate: true };
    this.seen.set(id, now);
    this.entries.set(id, { id, data, deliveries: 0, availableAt: now, token: 0, inflight: false });
    this.updateDepth();
    this.wake();
    return { duplicate: false };
  }

  async depth(): Promise<number> {
    return this.entries.size;
  }

  async consume(options: ConsumeOptions<T>): Promise<JobConsumer> {
    let stopped = false;
    let abandoned = false;
    let wakeSelf: (() => void) | undefined;
    const loop = (async () => {
      while (!stopped && !this.closed) {
        const entry = this.take();
        if (!entry) {
          await new Promise<void>((resolve) => {
            const next = this.nextAvailable();
            const timer = setTimeout(done, Number.isFinite(next) ? Math.max(1, next - Date.now()) : 1000);
            function done() {
              clearTimeout(timer);
              resolve();
            }
            wakeSelf = done;
            this.waiters.add(done);
          });
          if (wakeSelf) this.waiters.delete(wakeSelf);
          continue;
        }
        const token = entry.token;
        const job: Job<T> = { id: entry.id, data: entry.data, attempt: entry.deliveries, working: () => this.extend(entry, token) };
        if (entry.deliveries > 1) metrics.jobRedeliveries.inc({ queue: this.name });
        if (entry.deliveries > this.settings.maxDeliveries) {
          await this.exhaust(options, job, entry, token, new MaxDeliveriesExceededError(entry.deliveries, this.settings.maxDeliveries));
          continue;
        }
        try {
          await options.handler(job);
          if (!abandoned) this.finish(entry, token);
        } catch (error) {
          if (abandoned) continue;
          if (entry.deliveries >= this.settings.maxDeliveries) await this.exhaust(options, job, entry, token, error);
          else this.nak(entry, token, backoffDelay(entry.deliveries, this.settings));
        }
      }
    })();
    return {
      stop: async ({ abandon = false } = {}) => {
        stopped = true;
        abandoned = abandon;
        wakeSelf?.();
        // A crash does not wait for the job in hand; its ack timer will hand it to another consumer.
        if (!abandon) await loop;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.entries.values()) clearTimeout(e.ackTimer);
    this.wake();
  }

  private take(): Entry<T> | undefined {
    const now = Date.now();
    let best: Entry<T> | undefined;
    for (const e of this.entries.values()) {
      if (!e.inflight && e.availableAt <= now && (!best || e.availableAt < best.availableAt)) best = e;
    }
    if (!best) return undefined;
    best.inflight = true;
    best.deliveries++;
    best.token = this.nextToken++;
    this.armAckTimer(best, best.token);
    return best;
  }

  private armAckTimer(entry: Entry<T>, token: number): void {
    clearTimeout(entry.ackTimer);
    entry.ackTimer = setTimeout(() => {
      if (entry.token !== token || !entry.inflight) return;
      // Not acked in time: the consumer is presumed dead; deliver again.
      entry.inflight = false;
      entry.availableAt = Date.now();
      this.wake();
    }, this.settings.ackWaitMs);
    entry.ackTimer.unref?.();
  }

  private extend(entry: Entry<T>, token: number): void {
    if (entry.token === token && entry.inflight) this.armAckTimer(entry, token);
  }

  private finish(entry: Entry<T>, token: number): void {
    if (entry.token !== token || !entry.inflight) return;
    clearTimeout(entry.ackTimer);
    this.entries.delete(entry.id);
    this.updateDepth();
  }

  private nak(entry: Entry<T>, token: number, delayMs: number): void {
    if (entry.token !== token || !entry.inflight) return;
    clearTimeout(entry.ackTimer);
    entry.inflight = false;
    entry.availableAt = Date.now() + delayMs;
    this.wake();
  }

  private async exhaust(options: ConsumeOptions<T>, job: Job<T>, entry: Entry<T>, token: number, error: unknown): Promise<void> {
    try {
      await options.onExhausted(job, error);
      this.finish(entry, token);
    } catch {
      // Could not record the failure: keep the job so a later delivery tries again.
      this.nak(entry, token, backoffDelay(entry.deliveries, this.settings));
    }
  }

  private nextAvailable(): number {
    let min = Infinity;
    for (const e of this.entries.values()) if (!e.inflight) min = Math.min(min, e.availableAt);
    return min;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private updateDepth(): void {
    metrics.jobQueueDepth.set({ queue: this.name }, this.entries.size);
  }
}
