import { sql, type Kysely } from 'kysely';
import type { Tables } from '../../src/database/tables.js';
import { comparePositions, type Position } from '../../src/event-store/event-store.js';

/**
 * The log's head as the PostgreSQL store orders it, every stored checkpoint, and the subscribers (projections,
 * saga) whose checkpoint is behind the head: what the crash and soak tests poll until all have caught up.
 */
export async function subscribersBehind(db: Kysely<Tables>): Promise<{ head: Position; checkpoints: { name: string }[]; behind: { name: string }[] }> {
  const { rows: last } = await sql<{ commit: number; prepare: number }>`
    select transaction_id::text::bigint as commit, global_position as prepare from events
    order by transaction_id desc, global_position desc limit 1`.execute(db);
  const head = { commit: Number(last[0]!.commit), prepare: Number(last[0]!.prepare) };
  const { rows } = await sql<{ name: string; commit_position: number; prepare_position: number }>`select * from projection_checkpoints`.execute(db);
  const behind = rows.filter((r) => comparePositions({ commit: Number(r.commit_position), prepare: Number(r.prepare_position) }, head) < 0);
  return { head, checkpoints: rows, behind };
}
