import { sql, type Kysely } from 'kysely';
import type { Tables } from '../../database/tables.js';
import type { Position } from '../../event-store/event-store.js';
import { checkFence, LeaseLostError, type Fence } from './lease-fence.js';

/** A partition that passed over other partitions' events stores how far it has read, at most this often. */
export const IDLE_CHECKPOINT_MS = 500;

/**
 * The stored position of a unit that passes over other partitions' events: at most every IDLE_CHECKPOINT_MS, and the
 * last position passed is still stored when that interval is over, though the log went quiet meanwhile. Lag, ingest
 * backpressure (on API processes too) and readiness read stored checkpoints: one left behind would keep ingest closed,
 * with no new event ever coming to move it.
 */
export class IdleCheckpoint {
  private savedAt = 0;
  private pending: Position | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly name: string,
    private readonly fence: () => Fence | undefined,
  ) {}

  /** The unit committed a checkpoint with its own writes. */
  saved(): void {
    this.savedAt = Date.now();
    this.pending = undefined;
  }

  /** Passed over up to `position` (in the subscription's flow): stored now if the last store is old enough, else soon. */
  async passed(position: Position): Promise<void> {
    const wait = IDLE_CHECKPOINT_MS - (Date.now() - this.savedAt);
    if (wait <= 0) {
      this.saved();
      await this.store(position);
      return;
    }
    this.pending = position;
    // Unref'd: a pending store never keeps a process alive (stop() clears it anyway).
    this.timer ??= setTimeout(() => this.flush(), wait).unref();
  }

  /** No more stores (the unit stops); waits for one in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.writing;
  }

  private flush(): void {
    this.timer = undefined;
    const position = this.pending;
    if (!position) return;
    this.saved();
    this.writing = this.store(position)
      .catch((error) => {
        // A lost lease: the new holder goes on from its own checkpoint. Anything else: try again later.
        if (error instanceof LeaseLostError) return;
        this.pending ??= position;
        this.timer ??= setTimeout(() => this.flush(), IDLE_CHECKPOINT_MS).unref();
      })
      .finally(() => (this.writing = undefined));
  }

  /** Fenced, and only forwards: outside the subscription's flow a batch's commit may already have stored a later position. */
  private async store(position: Position): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await checkFence(trx, this.fence());
      await sql`
        insert into projection_checkpoints (name, commit_position, prepare_position, updated_at)
        values (${this.name}, ${position.commit}, ${position.prepare}, now())
        on conflict (name) do update set commit_position = excluded.commit_position,
          prepare_position = excluded.prepare_position, updated_at = excluded.updated_at
        where (projection_checkpoints.commit_position, projection_checkpoints.prepare_position)
            < (excluded.commit_position, excluded.prepare_position)`.execute(trx);
    });
  }
}
