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
import type { PartitionSlot } from '../events/partition-key.js';
import type { Projection } from './projection.js';
import type { WorkUnit } from './partitions/lease-coordinator.js';
import { IdleCheckpoint } from './partitions/idle-checkpoint.js';
import { checkFence, LeaseLostError, type Fence } from './partitions/lease-fence.js';
import { slots, unitName } from './partitions/unit-names.js';

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
  unit: { fence?: Fence; slot?: PartitionSlot } = {},
): Promise<void> {
  const last = events[events.length - 1]!.position;
  await db.transaction().execute(async (trx) => {
    // First: a worker that lost the lease writes nothing (and a takeover waits for this commit).
    await checkFence(trx, unit.fence);
    await projection.apply({ trx, schema, ...(unit.slot ? { slot: unit.slot } : {}) }, events.map(upcast));
    await storeCheckpoint(trx, checkpointName, last, schema);
  });
  // Only live writes notify: a rebuild into a shadow schema changes nothing readers see yet.
  if (schema === 'public') await projection.afterCommit?.(events);
}

export async function storeCheckpoint(trx: Kysely<Tables>, name: string, position: Position, schema = 'public'): Promise<void> {
  await sql`
    insert into ${sql.table(`${schema}.projection_checkpoints`)} (name, commit_position, prepare_position, updated_at)
    values (${name}, ${position.commit}, ${position.prepare}, now())
    on conflict (name) do update set commit_position = excluded.commit_position,
      prepare_position = excluded.prepare_position, updated_at = excluded.updated_at`.execute(trx);
}

interface UnitState {
  unit: WorkUnit;
  projection: Projection;
  slot: PartitionSlot | undefined;
  status: ProjectionStatus;
  subscription?: Subscription;
  fence?: Fence;
  fenced?: () => void;
  failures: number;
  timer?: NodeJS.Timeout;
  running: boolean;
  /** Assigned to this process (started, and not given up to another worker): reported by `status()` even when stopped. */
  held: boolean;
  idle?: IdleCheckpoint;
}

/**
 * Runs each projection, or each partition of a partitioned one, from its own checkpoint as a catch-up subscription
 * on the global log. Each is a WorkUnit: a LeaseCoordinator starts the ones this worker holds; `start()` runs them all
 * (one process, no leases: tests, benches, CLI).
 */
export class ProjectionRunner {
  private readonly states = new Map<string, UnitState>();
  readonly units: readonly WorkUnit[];

  constructor(
    private readonly database: Database,
    private readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly options: {
      batchSize?: number;
      onError?: (name: string, error: unknown) => void;
      /** Delay before a failed projection resubscribes from its checkpoint; 0: it stays stopped. */
      restartDelayMs?: number;
      /** P: partitioned projections run as P units (projection_partitioning holds the deployment's P). */
      partitions?: number;
      /** Inclusive: process nothing past this position (`projections repartition`). */
      until?: Position;
    } = {},
  ) {
    const units: WorkUnit[] = [];
    for (const projection of projections) {
      for (const slot of projection.partitioned ? slots(options.partitions ?? 1) : [undefined]) {
        const name = unitName(projection.name, slot);
        const unit: WorkUnit = {
          name,
          consumer: projection.name,
          start: (fence, fenced) => this.startUnit(name, fence, fenced),
          stop: () => this.stopUnit(name, true),
        };
        units.push(unit);
        this.states.set(name, { unit, projection, slot, status: { name, checkpoint: undefined, caughtUp: false }, failures: 0, running: false, held: false });
      }
    }
    this.units = units;
  }

  /** Every unit in this process, without leases. */
  async start(): Promise<void> {
    for (const unit of this.units) await this.startUnit(unit.name, undefined, () => undefined);
  }

  private async startUnit(name: string, fence: Fence | undefined, fenced: () => void): Promise<void> {
    const state = this.states.get(name)!;
    state.running = true;
    state.held = true;
    state.fence = fence;
    state.fenced = fenced;
    state.failures = 0;
    await this.subscribe(state);
  }

  /**
   * From the stored checkpoint. A failed subscription (the database went away, a transaction was killed)
   * is started again from its checkpoint after `restartDelayMs`: the batch in hand was rolled back with its
   * checkpoint, so it is applied once when it comes again. Until then `status()` reports the error.
   */
  private async subscribe(state: UnitState): Promise<void> {
    const { projection, status } = state;
    const name = status.name;
    await state.idle?.stop();
    const idle = (state.idle = new IdleCheckpoint(this.database.db, name, () => state.fence));
    status.checkpoint = await readCheckpoint(this.database.db, name);
    const subscription = this.store.subscribeToAll({
      after: status.checkpoint,
      batchSize: this.options.batchSize ?? 500,
      ...(this.options.until ? { until: this.options.until } : {}),
      ...(state.slot || projection.eventTypes ? { filter: { ...(state.slot ? { partition: state.slot } : {}), ...(projection.eventTypes ? { eventTypes: projection.eventTypes } : {}) } } : {}),
      handler: async (events) => {
        await applyBatch(this.database.db, projection, events, 'public', name, { fence: state.fence, slot: state.slot });
        idle.saved();
        status.checkpoint = events[events.length - 1]!.position;
        delete status.error;
        state.failures = 0;
        const newest = Date.parse(events[events.length - 1]!.createdAt);
        metrics.projectionLagSeconds.set({ projection: name }, Math.max(0, (Date.now() - newest) / 1000));
      },
      onCheckpoint: async (position) => {
        status.checkpoint = position;
        await idle.passed(position);
      },
      onCaughtUp: () => {
        status.caughtUp = true;
        delete status.error;
        metrics.projectionLagSeconds.set({ projection: name }, 0);
      },
      onError: (error) => {
        if (error instanceof LeaseLostError) {
          // Another worker runs this unit now: stop here, never resubscribe.
          state.running = false;
          state.held = false;
          state.fenced?.();
          return;
        }
        status.error = error instanceof Error ? error.message : String(error);
        this.options.onError?.(name, error);
        this.restartLater(state);
      },
    });
    state.subscription = subscription;
  }

  private restartLater(state: UnitState): void {
    if (!state.running || this.options.restartDelayMs === 0) return;
    // Doubling up to 30 s: a projection that fails on the same event again does not spin.
    state.failures++;
    const delay = Math.min(30_000, (this.options.restartDelayMs ?? 1_000) * 2 ** (state.failures - 1));
    state.timer = setTimeout(() => {
      state.timer = undefined;
      if (!state.running) return;
      this.subscribe(state).catch((error) => {
        // The checkpoint could not be read either: the database is still away. Try again later.
        state.status.error = error instanceof Error ? error.message : String(error);
        this.restartLater(state);
      });
    }, delay);
  }

  private async stopUnit(name: string, release: boolean): Promise<void> {
    const state = this.states.get(name)!;
    state.running = false;
    if (release) state.held = false;
    clearTimeout(state.timer);
    state.timer = undefined;
    await state.subscription?.stop();
    state.subscription = undefined;
    await state.idle?.stop();
  }

  /** Stops reading; each unit finishes (and commits) the batch in hand. Status still reports them (now falling behind). */
  async stop(): Promise<void> {
    await Promise.all(this.units.map((u) => this.stopUnit(u.name, false)));
  }

  /** The units assigned to this process (all of them after `start()`), with their lag gauge refreshed. */
  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.headPosition();
    const out: ProjectionStatus[] = [];
    for (const state of this.states.values()) {
      if (!state.held) continue;
      const s = state.status;
      const behind = head ? head.prepare - (s.checkpoint?.prepare ?? 0) : 0;
      metrics.projectionLagEvents.set({ projection: s.name }, Math.max(0, behind));
      out.push({ ...s });
    }
    return out;
  }

  /** Resolves once every unit has processed the log up to `position` (read-your-writes for tests and sync calls; all units must run here). */
  async waitFor(position: Position, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = [...this.states.values()].map((s) => s.status);
      if (statuses.every((s) => s.checkpoint && comparePositions(s.checkpoint, position) >= 0)) return;
      if (Date.now() > deadline) {
        // A failed projection restarts by itself; only the deadline ends the wait.
        const failed = statuses.filter((s) => s.error).map((s) => `${s.name}: ${s.error}`);
        throw new Error(`projections did not reach ${JSON.stringify(position)} within ${timeoutMs} ms${failed.length ? ` (failing: ${failed.join('; ')})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
