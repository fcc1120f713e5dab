import { sql, type Kysely } from 'kysely';
import type { Tables } from '../../database/tables.js';

/** The proof a worker holds a lease, checked by every write of the lease's work (migrations/0010 `lease_fences`). */
export interface Fence {
  name: string;
  epoch: number;
}

export class LeaseLostError extends Error {
  constructor(readonly fence: Fence) {
    super(`lease ${fence.name} (epoch ${fence.epoch}) was taken over by another worker: this write is refused`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Called right after the lease backend granted `name`: raises the epoch. The row lock orders this after any write
 * transaction of the previous holder that already checked its fence, so that one commits first and every later one
 * finds a newer epoch. Read the checkpoint only after this returns.
 */
export async function takeFence(db: Kysely<Tables>, name: string, owner: string): Promise<Fence> {
  const { rows } = await sql<{ epoch: string }>`
    insert into lease_fences (name, epoch, owner, acquired_at) values (${name}, 1, ${owner}, now())
    on conflict (name) do update set epoch = lease_fences.epoch + 1, owner = excluded.owner, acquired_at = excluded.acquired_at
    returning epoch`.execute(db);
  return { name, epoch: Number(rows[0]!.epoch) };
}

/** In the write's own transaction: throws LeaseLostError unless the fence still stands (and holds it until commit). */
export async function checkFence(trx: Kysely<Tables>, fence: Fence | undefined): Promise<void> {
  if (!fence) return;
  const { rows } = await sql`select 1 from lease_fences where name = ${fence.name} and epoch = ${fence.epoch} for share`.execute(trx);
  if (rows.length === 0) throw new LeaseLostError(fence);
}
