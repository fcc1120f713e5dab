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
 * Resolves with the time at which every expected checkpoint exists and all checkpoints are at the head, the head
 * having stayed the same since the previous poll (the saga may still append what it decided last).
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
    if (stable && behind(p, expected).length === 0) return p;
    if (Date.now() > deadline) throw new Error(`not caught up within ${timeoutMs} ms; behind: ${behind(p, expected).slice(0, 20).join(', ')}`);
    previous = p;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
