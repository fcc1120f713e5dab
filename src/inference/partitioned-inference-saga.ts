import type { Database } from '../database/database.js';
import { comparePositions, type EventStore, type Position } from '../event-store/event-store.js';
import type { WorkUnit } from '../projections/partitions/lease-coordinator.js';
import type { Fence } from '../projections/partitions/lease-fence.js';
import { slots, unitName } from '../projections/partitions/unit-names.js';
import { INFERENCE_SAGA, InferenceSaga, type InferenceSagaOptions, type InferenceSagaStatus } from './inference.saga.js';
import type { ScorerLoader, WindowScorer } from './window-scorer.js';

/**
 * The inference saga as P work units (issue #19), one InferenceSaga per partition, each with its own checkpoint,
 * state rows and lease. Versions loaded for promotions are shared by the partitions (loaded once, closed on `close`).
 * With P = 1 it is the one saga over the whole log, named 'inference-saga' as before.
 */
export class PartitionedInferenceSaga {
  readonly units: readonly WorkUnit[];
  private readonly running = new Map<string, InferenceSaga>();
  private readonly versions = new Map<string, Promise<WindowScorer>>();

  constructor(
    private readonly database: Database,
    private readonly store: EventStore,
    private readonly initial: WindowScorer,
    private readonly options: InferenceSagaOptions,
    partitions: number,
  ) {
    this.units = slots(partitions).map((slot) => {
      const name = unitName(INFERENCE_SAGA, slot);
      return {
        name,
        consumer: INFERENCE_SAGA,
        start: async (fence: Fence | undefined, fenced: () => void) => {
          const saga = new InferenceSaga(this.database, this.store, this.initial, {
            ...this.options,
            name,
            ...(slot ? { slot } : {}),
            ...(this.options.loadVersion ? { loadVersion: this.sharedLoader(this.options.loadVersion), keepLoaded: true } : {}),
          });
          this.running.set(name, saga);
          await saga.start(fence, fenced);
        },
        stop: async () => {
          const saga = this.running.get(name);
          this.running.delete(name);
          await saga?.stop();
        },
      };
    });
  }

  private sharedLoader(load: ScorerLoader): ScorerLoader {
    return (version) => {
      let scorer = this.versions.get(version);
      if (!scorer) {
        scorer = load(version);
        // A failed load is tried again by the next partition that needs it.
        scorer.catch(() => this.versions.delete(version));
        this.versions.set(version, scorer);
      }
      return scorer;
    };
  }

  /** Every partition in this process, without leases (tests, benches). */
  async start(): Promise<void> {
    for (const unit of this.units) await unit.start(undefined as never, () => undefined);
  }

  async stop(): Promise<void> {
    await Promise.all(this.units.map((u) => u.stop()));
  }

  /** Closes the scorers loaded for promotions (after `stop`). */
  async close(): Promise<void> {
    for (const scorer of this.versions.values()) await (await scorer.catch(() => undefined))?.close?.();
    this.versions.clear();
  }

  get modelVersion(): string {
    const first = this.running.values().next().value as InferenceSaga | undefined;
    return first?.modelVersion ?? this.initial.version;
  }

  /** The partitions running here. */
  status(head?: Position): InferenceSagaStatus[] {
    return [...this.running.values()].map((s) => s.status(head));
  }

  /** Resolves once every partition (all must run here) has processed the log up to `position`. */
  async waitFor(position: Position, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = this.status();
      if (statuses.length === this.units.length && statuses.every((s) => s.checkpoint && comparePositions(s.checkpoint, position) >= 0)) return;
      if (Date.now() > deadline) {
        throw new Error(`inference saga did not reach ${JSON.stringify(position)} within ${timeoutMs} ms (${statuses.map((s) => `${s.name}: ${s.error ?? 'no error'}`).join('; ') || 'no partition runs here'})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
