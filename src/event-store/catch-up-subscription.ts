import type { EventFilter, Position, RecordedEvent, SubscribeOptions, Subscription } from './event-store.js';

export interface CatchUpSource {
  readAll(options: { after?: Position; limit: number; filter?: EventFilter }): Promise<RecordedEvent[]>;
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
 */
export class CatchUpSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly done: Promise<void>;
  private current: Position | undefined;

  constructor(
    private readonly source: CatchUpSource,
    private readonly options: SubscribeOptions,
    private readonly pollIntervalMs = 250,
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
    const batchSize = this.options.batchSize ?? 500;
    let pending = false;
    let unsubscribe: (() => Promise<void>) | undefined;
    let caughtUp = false;
    try {
      unsubscribe = await this.source.onAppended(() => {
        pending = true;
        this.wake?.();
      });
      const mark = await this.source.startMark?.();
      while (!this.stopped) {
        pending = false;
        // Checked before the read: if everything before the mark was visible then, this read sees it too.
        const complete = caughtUp || mark === undefined || (await this.source.seesAllBefore!(mark));
        const events = await this.source.readAll({ after: this.current, limit: batchSize, filter: this.options.filter });
        if (events.length > 0) {
          await this.options.handler(events);
          this.current = events[events.length - 1]!.position;
          // A turn for the event loop between batches: embedded PGlite runs every query on this thread as one
          // chain of promises, which would otherwise hold HTTP requests (/health/live) for a whole backlog.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (events.length === batchSize) continue;
        }
        if (!caughtUp && complete) {
          caughtUp = true;
          this.resolveCaughtUp();
          this.options.onCaughtUp?.();
        }
        if (events.length > 0 || pending || this.stopped) continue;
        await new Promise<void>((resolve) => {
          // Until caught up, look again soon: an older transaction elsewhere may be about to end.
          const timer = setTimeout(resolve, caughtUp ? this.pollIntervalMs : Math.min(this.pollIntervalMs, 20));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    } catch (error) {
      this.stopped = true;
      if (this.options.onError) this.options.onError(error);
      else throw error;
    } finally {
      await unsubscribe?.().catch(() => undefined);
      // Never leave a waiter on caughtUp hanging after a stop.
      this.resolveCaughtUp();
    }
  }
}
