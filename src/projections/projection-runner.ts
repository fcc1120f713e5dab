import { sql, type Kysely } from 'kysely';
import type { Database } from '../database/database.js';
import type { Tables } from '../database/tables.js';
import {
  comparePositions,
  type EventStore,
  type Position,
  type RecordedEvent,
  type Subscription,
} from '../event-store/event-store.js';
import { upcast } from '../events/event-registry.js';
import { metrics } from '../observability/metrics.js';
import type { Projection } from './projection.js';

export interface ProjectionStatus {
  name: string;
  checkpoint: Position | undefined;
  caughtUp: boolean;
  error?: string;
}

export async function readCheckpoint(db: Kysely<Tables>, name: string): Promise<Position | undefined> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .select(['commit_position', 'prepare_position'])
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? { commit: Number(row.commit_position), prepare: Number(row.prepare_position) } : undefined;
}

/** Applies a batch and moves the checkpoint in one transaction: each event's effect lands exactly once. */
export async function applyBatch(
  db: Kysely<Tables>,
  projection: Projection,
  events: readonly RecordedEvent[],
  schema = 'public',
  checkpointName = projection.name,
): Promise<void> {
  const last = events[events.length - 1]!.position;
  await db.transaction().execute(async (trx) => {
    await projection.apply({ trx, schema }, events.map(upcast));
    await sql`
      insert into ${sql.table(`${schema}.projection_checkpoints`)} (name, commit_position, prepare_position, updated_at)
      values (${checkpointName}, ${last.commit}, ${last.prepare}, now())
      on conflict (name) do update set commit_position = excluded.commit_position,
        prepare_position = excluded.prepare_position, updated_at = excluded.updated_at`.execute(trx);
  });
  // Only live writes notify: a rebuild into a shadow schema changes nothing readers see yet.
  if (schema === 'public') await projection.afterCommit?.(events);
}

/** Runs each projection from its own checkpoint as a catch-up subscription on the global log. */
export class ProjectionRunner {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly state = new Map<string, ProjectionStatus>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private stopped = true;

  constructor(
    private readonly database: Database,
    private readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly options: {
      batchSize?: number;
      onError?: (name: string, error: unknown) => void;
      /** Delay before a failed projection resubscribes from its checkpoint; 0: it stays stopped. */
      restartDelayMs?: number;
    } = {},
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    for (const projection of this.projections) await this.subscribe(projection);
  }

  /**
   * From the stored checkpoint. A failed subscription (the database went away, a transaction was killed)
   * is started again from its checkpoint after `restartDelayMs`: the batch in hand was rolled back with its
   * checkpoint, so it is applied once when it comes again. Until then `status()` reports the error.
   */
  private async subscribe(projection: Projection): Promise<void> {
    const checkpoint = await readCheckpoint(this.database.db, projection.name);
    const previous = this.state.get(projection.name);
    const status: ProjectionStatus = { name: projection.name, checkpoint, caughtUp: previous?.caughtUp ?? false, ...(previous?.error ? { error: previous.error } : {}) };
    this.state.set(projection.name, status);
    const subscription = this.store.subscribeToAll({
      after: checkpoint,
      batchSize: this.options.batchSize ?? 500,
      handler: async (events) => {
        await applyBatch(this.database.db, projection, events);
        status.checkpoint = events[events.length - 1]!.position;
        delete status.error;
        this.failures.delete(projection.name);
        const newest = Date.parse(events[events.length - 1]!.createdAt);
        metrics.projectionLagSeconds.set({ projection: projection.name }, Math.max(0, (Date.now() - newest) / 1000));
      },
      onCaughtUp: () => {
        status.caughtUp = true;
        delete status.error;
        metrics.projectionLagSeconds.set({ projection: projection.name }, 0);
      },
      onError: (error) => {
        status.error = error instanceof Error ? error.message : String(error);
        this.options.onError?.(projection.name, error);
        this.restartLater(projection);
      },
    });
    this.subscriptions.set(projection.name, subscription);
  }

  private restartLater(projection: Projection): void {
    if (this.stopped || this.options.restartDelayMs === 0) return;
    // Doubling up to 30 s: a projection that fails on the same event again does not spin.
    const failures = (this.failures.get(projection.name) ?? 0) + 1;
    this.failures.set(projection.name, failures);
    const delay = Math.min(30_000, (this.options.restartDelayMs ?? 1_000) * 2 ** (failures - 1));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      this.subscribe(projection).catch((error) => {
        // The checkpoint could not be read either: the database is still away. Try again later.
        this.state.get(projection.name)!.error = error instanceof Error ? error.message : String(error);
        this.restartLater(projection);
      });
    }, delay);
    this.timers.add(timer);
  }

  /** Stops reading; each projection finishes (and commits) the batch in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.subscriptions.values()].map((s) => s.stop()));
    this.subscriptions.clear();
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.headPosition();
    return this.projections.map((p) => {
      const s = this.state.get(p.name) ?? { name: p.name, checkpoint: undefined, caughtUp: false };
      const behind = head ? head.prepare - (s.checkpoint?.prepare ?? 0) : 0;
      metrics.projectionLagEvents.set({ projection: p.name }, Math.max(0, behind));
      return { ...s };
    });
  }

  /** Resolves once every projection has processed the log up to `position` (read-your-writes for tests and sync calls). */
  async waitFor(position: Position, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = [...this.state.values()];
      if (statuses.length === this.projections.length && statuses.every((s) => s.checkpoint && comparePositions(s.checkpoint, position) >= 0)) return;
      if (Date.now() > deadline) {
        // A failed projection restarts by itself; only the deadline ends the wait.
        const failed = statuses.filter((s) => s.error).map((s) => `${s.name}: ${s.error}`);
        throw new Error(`projections did not reach ${JSON.stringify(position)} within ${timeoutMs} ms${failed.length ? ` (failing: ${failed.join('; ')})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
