import { comparePositions, type EventFilter, type Position, type RecordedEvent, type SubscribeOptions, type Subscription } from './event-store.js';
import { DEFAULT_RESUBSCRIBE, resubscribeDelay, type ResubscribeOptions } from './resubscribe.js';

/** Marks an error thrown by the subscriber's handler: never retried. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

export interface CatchUpSource {
  /**
   * A page after `after`; `head`, where given, is the newest readable event as of the same read: a short page
   * means nothing else matching the filter lies before it.
   */
  readPage(options: { after?: Position; until?: Position; limit: number; filter?: EventFilter }): Promise<{ events: RecordedEvent[]; head?: { position: Position; createdAt: string } }>;
  /** Registers a wake-up (e.g. LISTEN/NOTIFY); resolves to an unsubscribe function. */
  onAppended(wake: () => void): Promise<() => Promise<void>>;
  /**
   * For stores whose reads may lag commits (the snapshot rule): a mark taken at start, and whether reads
   * now see everything committed before that mark. Caught-up is signalled only once they do.
   */
  startMark?(): Promise<string>;
  seesAllBefore?(mark: string): Promise<boolean>;
}

/**
 * A pull-based catch-up subscription: read a page after the checkpoint, hand it to the handler, repeat;
 * when a read comes back short the subscriber is caught up (once it can see every transaction that had
 * committed when it started) and sleeps until a NOTIFY or the poll interval.
 * Polling stays on because NOTIFY is best-effort and because an event may become visible only once an
 * older transaction ends (the snapshot rule).
 * A failing read (a terminated connection, a restarting server) is retried from the last handled position
 * after a growing delay, with the caught-up state kept; `onError` hears only of handler errors and of
 * retries used up.
 */
export class CatchUpSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private stopped = false;
  /** Kept across retries: onCaughtUp fires once per subscription. */
  private isCaughtUp = false;
  private wake: (() => void) | undefined;
  private readonly done: Promise<void>;
  private current: Position | undefined;

  constructor(
    private readonly source: CatchUpSource,
    private readonly options: SubscribeOptions,
    private readonly pollIntervalMs = 250,
    private readonly retry: ResubscribeOptions = DEFAULT_RESUBSCRIBE,
  ) {
    this.current = options.after;
    this.caughtUp = new Promise((resolve) => (this.resolveCaughtUp = resolve));
    this.done = this.run();
  }

  get position(): Position | undefined {
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.done;
  }

  private async run(): Promise<void> {
    let unsubscribe: (() => Promise<void>) | undefined;
    let mark: string | undefined | null = null;
    let failures = 0;
    try {
      while (!this.stopped) {
        try {
          let pending = false;
          unsubscribe ??= await this.source.onAppended(() => {
            pending = true;
            this.wake?.();
          });
          if (mark === null) mark = await this.source.startMark?.();
          await this.follow(mark, () => {
            const was = pending;
            pending = false;
            return was;
          }, () => (failures = 0));
        } catch (error) {
          if (error instanceof HandlerFailure || this.stopped) throw error;
          failures++;
          if (failures > this.retry.attempts) throw error;
          await unsubscribe?.().catch(() => undefined);
          unsubscribe = undefined;
          // Unref'd: a retry alone never keeps the process alive (e.g. after the database was closed under it).
          await this.sleep(resubscribeDelay(failures, this.retry), true);
        }
      }
    } catch (error) {
      this.stopped = true;
      const reported = error instanceof HandlerFailure ? error.error : error;
      if (this.options.onError) this.options.onError(reported);
      else throw reported;
    } finally {
      await unsubscribe?.().catch(() => undefined);
      // Never leave a waiter on caughtUp hanging after a stop.
      this.resolveCaughtUp();
    }
  }

  /** Reads and hands over pages until stopped; throws on a failed read. */
  private async follow(mark: string | undefined, takePending: () => boolean, readSucceeded: () => void): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    while (!this.stopped) {
      takePending();
      // Checked before the read: if everything before the mark was visible then, this read sees it too.
      const complete = this.isCaughtUp || mark === undefined || (await this.source.seesAllBefore!(mark));
      const { events, head } = await this.source.readPage({ after: this.current, until: this.options.until, limit: batchSize, filter: this.options.filter });
      readSucceeded();
      if (events.length > 0) {
        try {
          await this.options.handler(events);
        } catch (error) {
          throw new HandlerFailure(error);
        }
        this.current = events[events.length - 1]!.position;
        // A turn for the event loop between batches: embedded PGlite runs every query on this thread as one
        // chain of promises, which would otherwise hold HTTP requests (/health/live) for a whole backlog.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (events.length === batchSize) continue;
      }
      // A filtered subscriber (one partition) passes over other partitions' events: it is at the head too.
      if (head && (!this.current || comparePositions(head.position, this.current) > 0)) {
        try {
          await this.options.onCheckpoint?.(head.position, head.createdAt);
        } catch (error) {
          throw new HandlerFailure(error);
        }
        this.current = head.position;
      }
      if (!this.isCaughtUp && complete) {
        this.isCaughtUp = true;
        this.resolveCaughtUp();
        this.options.onCaughtUp?.();
      }
      if (events.length > 0 || takePending() || this.stopped) continue;
      // Until caught up, look again soon: an older transaction elsewhere may be about to end.
      await this.sleep(this.isCaughtUp ? this.pollIntervalMs : Math.min(this.pollIntervalMs, 20));
    }
  }

  /** Waits, or until woken (an append, a NOTIFY, stop). */
  private async sleep(ms: number, unref = false): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      if (unref) timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }
}
