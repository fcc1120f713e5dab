import type { Kysely } from 'kysely';
import type { Tables } from '../../database/tables.js';
import { metrics } from '../../observability/metrics.js';
import type { LeaseBackend } from './lease-backend.js';
import { takeFence, type Fence } from './lease-fence.js';

/** One lease's work: a projection (or one partition of it) or one partition of the saga. */
export interface WorkUnit {
  /** The lease name, also the unit's checkpoint name. */
  readonly name: string;
  /** The consumer it belongs to (metrics: partitions held per consumer). */
  readonly consumer: string;
  /**
   * Runs the unit from its stored checkpoint; every write checks `fence`. `fenced` is called when a write was
   * refused (another worker holds the lease now): the coordinator then stops the unit and lets the lease go.
   */
  start(fence: Fence, fenced: () => void): Promise<void>;
  /** Finishes the batch in hand and stops. */
  stop(): Promise<void>;
}

export interface LeaseCoordinatorOptions {
  /** Between claims, releases and heartbeats. */
  intervalMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
  /**
   * Checked every round: true once the deployment's P is no longer the one these units were made for (`projections
   * repartition` ran). The worker then stops and holds nothing until it is restarted with the new P.
   */
  stale?: () => Promise<boolean>;
}

/**
 * Claims leases up to a fair share (ceil(units / live workers)) and gives up those above it, so work spreads as
 * workers join and moves back when they leave; a unit runs only while its lease is held, and every write it makes is
 * fenced (lease-fence.ts). A lease the backend reports lost stops its unit at once.
 */
export class LeaseCoordinator {
  private readonly running = new Map<string, WorkUnit>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  private lastWorkers = 1;
  private joined = false;
  rebalances = 0;
  /** Why this worker holds nothing and claims nothing (P changed under it), until restarted. */
  halted: string | undefined;

  constructor(
    private readonly backend: LeaseBackend,
    private readonly db: Kysely<Tables>,
    private readonly units: readonly WorkUnit[],
    private readonly options: LeaseCoordinatorOptions = {},
  ) {}

  get workerId(): string {
    return this.backend.workerId;
  }

  /** Joins and makes the first claim before returning (a single process holds everything once this resolves). */
  async start(): Promise<void> {
    this.stopped = false;
    // Rounds go on even if this first one fails (the lease backend is not reachable yet): each joins until one has.
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs ?? 1_000);
    this.timer.unref();
    await this.tick();
  }

  /** Stops every unit (each commits the batch in hand), then releases the leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.running.values()].map((u) => u.stop()));
    this.running.clear();
    this.publish();
    if (this.joined) await this.backend.close();
    this.joined = false;
  }

  /** Units this worker runs now. */
  held(): string[] {
    return [...this.running.keys()].sort();
  }

  workers(): number {
    return this.lastWorkers;
  }

  /** One round: heartbeat, then release above the fair share or claim up to it. Never two rounds at once. */
  tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = this.round()
      .catch((error) => this.log('warn', 'lease round failed; trying again', { err: error instanceof Error ? error.message : String(error) }))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(): Promise<void> {
    if (this.halted) return;
    if (!this.joined) {
      await this.backend.start((names, reason) => void this.lost(names, reason));
      this.joined = true;
    }
    if (await this.options.stale?.()) {
      this.halted = 'the partition count changed (projections repartition): restart this worker';
      this.log('error', this.halted, { worker: this.backend.workerId });
      for (const unit of [...this.running.values()]) await this.giveUp(unit, 'repartitioned');
      this.publish();
      return;
    }
    await this.backend.heartbeat();
    const workers = await this.backend.workers();
    this.lastWorkers = workers;
    const share = Math.ceil(this.units.length / workers);
    if (this.running.size > share) {
      // Above the fair share (a worker joined): hand the surplus over, newest claims last.
      // All at once: each stop waits for its batch in hand, and the newcomer idles until they are free.
      const surplus = [...this.running.values()].slice(share);
      await Promise.all(surplus.map((unit) => this.giveUp(unit, 'rebalance')));
      this.rebalances++;
      metrics.leaseRebalances.inc({ reason: 'release' });
      this.publish();
      return;
    }
    // Claim first, then start the claimed units together: a started unit begins catching up at once, and on a long
    // log the next unit's start would otherwise queue behind its reads (the first round runs before /health/live).
    const claims: { unit: WorkUnit; fence: Fence }[] = [];
    for (const unit of shuffled(this.units)) {
      if (this.running.size + claims.length >= share || this.stopped) break;
      if (this.running.has(unit.name)) continue;
      if (!(await this.backend.tryAcquire(unit.name))) continue;
      try {
        claims.push({ unit, fence: await takeFence(this.db, unit.name, this.backend.workerId) });
      } catch (error) {
        // The database did not answer: give back every lease of this round, none of them started.
        for (const name of [unit.name, ...claims.map((c) => c.unit.name)]) await this.backend.release(name).catch(() => undefined);
        throw error;
      }
    }
    const started = await Promise.allSettled(
      claims.map(async ({ unit, fence }) => {
        this.running.set(unit.name, unit);
        try {
          await unit.start(fence, () => void this.lost([unit.name], 'fenced: a write found a newer epoch'));
        } catch (error) {
          this.running.delete(unit.name);
          await this.backend.release(unit.name).catch(() => undefined);
          throw error;
        }
      }),
    );
    const claimed = started.filter((r) => r.status === 'fulfilled').length;
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (claimed > 0) {
      this.rebalances++;
      metrics.leaseRebalances.inc({ reason: 'claim' });
      this.log('info', 'leases claimed', { worker: this.backend.workerId, claimed, held: this.running.size, workers, share });
    }
    this.publish();
    if (failed) throw failed.reason;
  }

  private async giveUp(unit: WorkUnit, reason: string): Promise<void> {
    await unit.stop();
    this.running.delete(unit.name);
    await this.backend.release(unit.name);
    this.log('info', 'lease released', { worker: this.backend.workerId, lease: unit.name, reason });
  }

  /** The backend says these are gone: stop their units (a write in flight is refused by its fence anyway). */
  private async lost(names: readonly string[], reason: string): Promise<void> {
    if (names.length === 0) return;
    this.log('warn', 'leases lost', { worker: this.backend.workerId, leases: names.length, reason });
    metrics.leaseRebalances.inc({ reason: 'lost' });
    await Promise.all(
      names.map(async (name) => {
        const unit = this.running.get(name);
        this.running.delete(name);
        await unit?.stop().catch(() => undefined);
        await this.backend.release(name).catch(() => undefined);
      }),
    );
    this.publish();
  }

  private publish(): void {
    const perConsumer = new Map<string, number>();
    for (const unit of this.units) perConsumer.set(unit.consumer, 0);
    for (const unit of this.running.values()) perConsumer.set(unit.consumer, (perConsumer.get(unit.consumer) ?? 0) + 1);
    for (const [consumer, n] of perConsumer) metrics.partitionsHeld.set({ consumer }, n);
  }

  private log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void {
    this.options.log?.(level, message, details);
  }
}

/** A random order, so workers starting together do not all race for the same leases first. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
