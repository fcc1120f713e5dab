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
 * - Positions up to which nothing else matches go to `onCheckpoint`, and the subscription's position moves there:
 *   the server's checkpoints (`checkpointReached`, no event time) and the events the client-side filter passed over
 *   (another partition's, with their event time: a partition's clock while its own events are quiet). Only once no
 *   delivered event is still waiting, here or in the stream's buffer, and in turn with the handler (awaited); a
 *   burst of passed-over events gives one call.
 * - `until` (inclusive): events past it are never handed over; the first one (or a server checkpoint past it) moves
 *   the position to `until` itself, where the subscription idles.
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
  /** The newest position known to hold nothing else for this subscriber, not yet reported (see onCheckpoint). */
  private passed: { position: Position; createdAt?: string } | undefined;
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
        // With a bound, caught-up is reaching the bound when the newest match lies past it.
        const until = options.until;
        this.target = until && target && comparePositions(target, until) > 0 ? until : target;
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
      if (!e) return;
      const position = toPosition(e.position);
      const until = this.options.until;
      if (until && comparePositions(position, until) > 0) {
        // Past the bound: nothing more for the handler, and everything up to the bound has come through.
        this.passOver(until);
        this.schedule();
        return;
      }
      if (!matches(e, this.options.filter)) {
        this.passOver(position, e.created.toISOString());
        this.schedule();
        return;
      }
      // A checkpoint that arrived while this (older) event waited in the stream's buffer stays valid after it.
      if (this.passed && comparePositions(this.passed.position, position) <= 0) this.passed = undefined;
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
    const until = this.options.until;
    this.passOver(until && comparePositions(position, until) > 0 ? until : position);
    if (this.target !== null && (this.target === undefined || comparePositions(position, this.target) >= 0)) this.serverCaughtUp = true;
    this.schedule();
  }

  private passOver(position: Position, createdAt?: string): void {
    if (!this.passed || comparePositions(position, this.passed.position) > 0) this.passed = { position, createdAt };
  }

  /** Reports the passed-over position once nothing delivered waits before it (else a resume could skip that event). */
  private async reportPassed(): Promise<boolean> {
    const passed = this.passed;
    if (!passed || this.buffer.length > 0 || this.subscription.readableLength > 0) return true;
    this.passed = undefined;
    if (this.current && comparePositions(passed.position, this.current) <= 0) return true;
    try {
      await this.options.onCheckpoint?.(passed.position, passed.createdAt);
    } catch (error) {
      this.fail(error);
      return false;
    }
    this.current = passed.position;
    return true;
  }

  private schedule(): void {
    if (this.handling || this.stopped) return;
    this.handling = this.drain().finally(() => {
      this.handling = undefined;
      // An event may have arrived between the end of the drain loop and here.
      if (this.buffer.length > 0 || (this.passed && this.subscription.readableLength === 0) || (!this.isCaughtUp && (this.serverCaughtUp || this.reachedTarget()))) {
        this.schedule();
      }
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
    if (!(await this.reportPassed()) || this.stopped) return;
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
