import type { Kysely } from 'kysely';
import type { Tables } from '../database/tables.js';
import { comparePositions, type Position } from '../event-store/event-store.js';
import { readConsumerCheckpoints } from './checkpoints.js';

/**
 * Resolves true once each named projection's checkpoint (every partition's, when it runs partitioned) (in the database, so it works when the projections run
 * in another process) is at or past `position`; false when `timeoutMs` passes or `cancelled()` turns true first.
 */
export async function waitForCheckpoints(
  db: Kysely<Tables>,
  names: readonly string[],
  position: Position,
  { timeoutMs = Infinity, intervalMs = 25, cancelled = () => false }: { timeoutMs?: number; intervalMs?: number; cancelled?: () => boolean } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cancelled() && Date.now() < deadline) {
    const checkpoints = await readConsumerCheckpoints(db, names);
    if ([...checkpoints.values()].every((c) => c && comparePositions(c, position) >= 0)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
