/**
 * Polls a database's log head and projection_checkpoints from outside the service (the consumers run in other
 * processes): until every checkpoint is at the head, and for the lag timeline of a run.
 */
import type pg from 'pg';
import { comparePositions, type Position } from '../../src/event-store/event-store.js';

export interface Checkpoint extends Position {
  name: string;
}

export interface Progress {
  at: number;
  head: Position | undefined;
  checkpoints: Checkpoint[];
}

export async function readProgress(client: pg.Client): Promise<Progress> {
  // Head as subscribers order the log: (transaction id, position); events_transaction_order serves it.
  const head = await client.query<{ commit: string; prepare: string }>(
    'select transaction_id::text as commit, global_position::text as prepare from events order by transaction_id desc, global_position desc limit 1',
  );
  const rows = await client.query<{ name: string; commit: string; prepare: string }>(
    'select name, commit_position::text as commit, prepare_position::text as prepare from projection_checkpoints',
  );
  const h = head.rows[0];
  return {
    at: Date.now(),
    head: h ? { commit: Number(h.commit), prepare: Number(h.prepare) } : undefined,
    checkpoints: rows.rows.map((r) => ({ name: r.name, commit: Number(r.commit), prepare: Number(r.prepare) })),
  };
}

/** Checkpoints behind the head, and expected names with no checkpoint yet. */
export function behind(p: Progress, expected: readonly string[]): string[] {
  const names = new Set(p.checkpoints.map((c) => c.name));
  const missing = expected.filter((n) => !names.has(n));
  if (!p.head) return missing;
  return [...missing, ...p.checkpoints.filter((c) => comparePositions(c, p.head!) < 0).map((c) => c.name)];
}

/** Events between the head and the slowest checkpoint (by position: a lag figure, not an exact count). */
export function lagEvents(p: Progress): number {
  if (!p.head || p.checkpoints.length === 0) return 0;
  return Math.max(0, p.head.prepare - Math.min(...p.checkpoints.map((c) => c.prepare)));
}

/**
 * Of the partition checkpoints (`consumer#i/P`) behind the log's head, those with events of their own partition (or
 * keyless ones) still after them. A partition that has passed over the rest of the log may store that position only
 * later (at most every IDLE_CHECKPOINT_MS, src/projections/partitions/idle-checkpoint.ts): it has nothing left to do.
 */
async function partitionsWithWork(client: pg.Client, names: readonly string[], checkpoints: readonly Checkpoint[]): Promise<string[]> {
  const counts = [...new Set(names.map((n) => /#\d+\/(\d+)$/.exec(n)?.[1]).filter((c): c is string => c !== undefined))];
  const heads = new Map<string, Position>(); // `${index}/${count}` -> newest event of that partition
  for (const count of counts) {
    const { rows } = await client.query<{ p: number | null; commit: string; prepare: string }>(
      `select distinct on (p) partition_key % $1 as p, transaction_id::text as commit, global_position::text as prepare
         from events order by p, transaction_id desc, global_position desc`,
      [Number(count)],
    );
    const keyless = rows.find((r) => r.p === null);
    for (let i = 0; i < Number(count); i++) {
      const own = rows.find((r) => r.p === i);
      const candidates = [own, keyless].filter((r) => r !== undefined).map((r) => ({ commit: Number(r.commit), prepare: Number(r.prepare) }));
      if (candidates.length) heads.set(`${i}/${count}`, candidates.reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b)));
    }
  }
  return names.filter((n) => {
    const match = /#(\d+\/\d+)$/.exec(n);
    const head = match ? heads.get(match[1]!) : undefined;
    const checkpoint = checkpoints.find((c) => c.name === n);
    return !match || !checkpoint || (head !== undefined && comparePositions(checkpoint, head) < 0);
  });
}

/**
 * Resolves once every expected checkpoint exists and every consumer is done: at the head, or (a partition) past
 * the last event of its partition; the head having stayed the same since the previous poll (the saga may still
 * append what it decided last).
 */
export async function waitCaughtUp(
  client: pg.Client,
  expected: readonly string[],
  { timeoutMs, intervalMs = 200, onPoll }: { timeoutMs: number; intervalMs?: number; onPoll?: (p: Progress) => void | Promise<void> },
): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let previous: Progress | undefined;
  for (;;) {
    const p = await readProgress(client);
    await onPoll?.(p);
    const stable = previous?.head && p.head && comparePositions(previous.head, p.head) === 0;
    let left = behind(p, expected);
    // Only partitions left behind the head: ask which of them still have events of their own to process.
    if (stable && left.length > 0 && left.every((n) => n.includes('#'))) left = await partitionsWithWork(client, left, p.checkpoints);
    if (stable && left.length === 0) return p;
    if (Date.now() > deadline) throw new Error(`not caught up within ${timeoutMs} ms; behind: ${left.slice(0, 20).join(', ')}`);
    previous = p;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
