import { START, type AllStreamResolvedEvent, type AllStreamSubscription } from '@kurrent/kurrentdb-client';
import { comparePositions, type Position, type RecordedEvent, type SubscribeOptions, type Subscription } from '../event-store.js';
import { resubscribeDelay, type ResubscribeOptions } from '../resubscribe.js';
import type { EsdbClient } from './eventstoredb-client.js';
import { fromPosition, matches, serverFilter, toPosition, toRecorded } from './eventstoredb-mappings.js';

/**
 * A catch-up subscription on $all: the server streams history then live events, and says `caughtUp` when
 * it switches to live. Events are handed to the handler in batches, one batch at a time (the stream is
 * paused while the handler runs), so a slow handler back-pressures the server.
 *
 * - Caught-up means "the handler has finished everything the server sent before its caughtUp" (servers
 *   ≥ 23.10). Older servers never send it: there the subscription is caught up once it has handled the
 *   newest event matching its filter at the start (read once, backwards through the server-side filter) —
 *   not when the log's head is reached, which a filtered subscription may only learn 32 events later.
 * - A dropped call (server restart, leader change: any error of the gRPC stream) opens a new subscription
 *   from the last handled position after a growing delay; the caught-up state is kept. `onError` hears only
 *   of handler errors and of retries used up.
 * - Server checkpoints (`checkpointReached`: positions up to which nothing else matches) go to `onCheckpoint`
 *   only when no delivered event is still waiting, here or in the stream's buffer.
 */
export class EventStoreDbSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private current: Position | undefined;
  private subscription!: AllStreamSubscription;
  /** Bumped on every (re)subscribe and on stop: callbacks of an older subscription are ignored. */
  private generation = 0;
  private buffer: RecordedEvent[] = [];
  private handling: Promise<void> | undefined;
  private serverCaughtUp = false;
  private isCaughtUp = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Newest matching event at the start: null = not known yet, undefined = none after the checkpoint. */
  private target: Position | undefined | null = null;

  constructor(
    private readonly client: EsdbClient,
    private readonly options: SubscribeOptions,
    private readonly retry: ResubscribeOptions,
    lastMatching: () => Promise<Position | undefined>,
  ) {
    this.current = options.after && options.after.commit >= 0 ? options.after : undefined;
    this.caughtUp = new Promise((resolve) => (this.resolveCaughtUp = resolve));
    this.open();
    lastMatching().then(
      (target) => {
        this.target = target;
        this.schedule();
      },
      // Without it only the server's caughtUp can signal; a server old enough to lack both is not supported.
      () => undefined,
    );
  }

  get position(): Position | undefined {
    return this.current;
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.generation++;
      clearTimeout(this.retryTimer);
      await this.subscription.unsubscribe().catch(() => undefined);
    }
    while (this.handling) await this.handling;
    this.resolveCaughtUp();
  }

  private open(): void {
    const generation = ++this.generation;
    const filter = serverFilter(this.options.filter, 1);
    filter.checkpointReached = (_sub, position) => {
      if (generation === this.generation) this.onCheckpoint(toPosition(position));
    };
    const subscription = this.client.subscribeToAll({ fromPosition: this.current ? fromPosition(this.current) : START, filter });
    this.subscription = subscription;
    subscription.on('data', (resolved: AllStreamResolvedEvent) => {
      if (generation !== this.generation) return;
      this.failures = 0;
      const e = resolved.event;
      if (!e || !matches(e, this.options.filter)) return;
      this.buffer.push(toRecorded(e));
      this.schedule();
    });
    subscription.on('caughtUp', () => {
      if (generation !== this.generation) return;
      this.serverCaughtUp = true;
      this.schedule();
    });
    subscription.on('error', (error: Error) => {
      if (generation === this.generation) this.dropped(error);
    });
    subscription.on('end', () => {
      if (generation === this.generation) this.dropped(new Error('eventstoredb: the server ended the subscription'));
    });
  }

  /** The call failed: open again from the last handled position, unless the retries are used up. */
  private dropped(error: Error): void {
    if (this.stopped) return;
    this.generation++;
    void this.subscription.unsubscribe().catch(() => undefined);
    this.failures++;
    if (this.failures > this.retry.attempts) return this.fail(error);
    const delay = resubscribeDelay(this.failures, this.retry);
    const reopen = async () => {
      // The batch in hand finishes first; what was buffered after it is sent again by the new call.
      while (this.handling) await this.handling;
      this.buffer = [];
      if (!this.stopped) this.open();
    };
    this.retryTimer = setTimeout(() => void reopen(), delay);
    // A retry alone never keeps the process alive.
    this.retryTimer.unref();
  }

  private onCheckpoint(position: Position): void {
    // Only when nothing of ours is pending before it, or a resume could skip a buffered event.
    const idle = this.buffer.length === 0 && !this.handling && this.subscription.readableLength === 0;
    if (idle && !this.stopped) this.options.onCheckpoint?.(position);
    if (this.target !== null && (this.target === undefined || comparePositions(position, this.target) >= 0)) this.serverCaughtUp = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.handling || this.stopped) return;
    this.handling = this.drain().finally(() => {
      this.handling = undefined;
      // An event may have arrived between the end of the drain loop and here.
      if (this.buffer.length > 0 || (!this.isCaughtUp && (this.serverCaughtUp || this.reachedTarget()))) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    // Let the events already in the client's buffer arrive so batches fill up.
    await new Promise((r) => setImmediate(r));
    while (this.buffer.length > 0 && !this.stopped) {
      const subscription = this.subscription;
      subscription.pause();
      const batch = this.buffer.splice(0, batchSize);
      try {
        await this.options.handler(batch);
      } catch (error) {
        this.fail(error);
        return;
      }
      this.current = batch[batch.length - 1]!.position;
      if (this.buffer.length < batchSize) {
        subscription.resume();
        await new Promise((r) => setImmediate(r));
      }
    }
    if (this.stopped) return;
    this.subscription.resume();
    if (!this.isCaughtUp && this.buffer.length === 0 && this.subscription.readableLength === 0 && (this.serverCaughtUp || this.reachedTarget())) {
      this.isCaughtUp = true;
      this.resolveCaughtUp();
      this.options.onCaughtUp?.();
    }
  }

  private reachedTarget(): boolean {
    if (this.target === null) return false;
    return this.target === undefined || (this.current !== undefined && comparePositions(this.current, this.target) >= 0);
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    void this.subscription.unsubscribe().catch(() => undefined);
    this.resolveCaughtUp();
    if (this.options.onError) this.options.onError(error);
    else
      queueMicrotask(() => {
        throw error;
      });
  }
}
