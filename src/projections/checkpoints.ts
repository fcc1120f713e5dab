import { sql, type Kysely } from 'kysely';
import type { Tables } from '../database/tables.js';
import { comparePositions, type Position } from '../event-store/event-store.js';
import { consumerOf } from './partitions/unit-names.js';

/** Every stored checkpoint: projections, their partitions (`name#i/P`) and the saga's. */
export async function readAllCheckpoints(db: Kysely<Tables>): Promise<{ name: string; position: Position }[]> {
  const rows = await db.selectFrom('projection_checkpoints').select(['name', 'commit_position', 'prepare_position']).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, position: { commit: Number(r.commit_position), prepare: Number(r.prepare_position) } }));
}

/** The deployment's P (1 before it was ever set). */
export async function readPartitionCount(db: Kysely<Tables>): Promise<number> {
  const { rows } = await sql<{ partitions: number }>`select partitions from projection_partitioning`.execute(db);
  return rows[0] ? Number(rows[0].partitions) : 1;
}

/**
 * Each consumer's checkpoint as one position: its own when it runs whole, else the slowest of its partitions of the
 * deployment's P (undefined while any partition has none yet: it starts from the beginning of the log).
 */
export async function readConsumerCheckpoints(db: Kysely<Tables>, consumers: readonly string[]): Promise<Map<string, Position | undefined>> {
  const [rows, partitions] = await Promise.all([readAllCheckpoints(db), readPartitionCount(db)]);
  const out = new Map<string, Position | undefined>();
  for (const consumer of consumers) {
    const own = rows.filter((r) => consumerOf(r.name) === consumer);
    const parts = own.filter((r) => r.name.endsWith(`/${partitions}`));
    if (partitions <= 1 || parts.length === 0) {
      out.set(consumer, own.find((r) => r.name === consumer)?.position);
      continue;
    }
    out.set(consumer, parts.length < partitions ? undefined : parts.map((r) => r.position).reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b)));
  }
  return out;
}
