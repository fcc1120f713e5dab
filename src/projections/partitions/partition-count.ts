import { sql, type Kysely } from 'kysely';
import type { Tables } from '../../database/tables.js';

/**
 * The deployment's P (projection_partitioning). A new database takes `configured` (PARTITIONS); one whose
 * consumers already have checkpoints keeps running as it did (1 before issue #19): moving those checkpoints is
 * `projections repartition`'s job, never a side effect of a start with another PARTITIONS.
 */
export async function resolvePartitionCount(db: Kysely<Tables>, configured: number | undefined): Promise<{ partitions: number; configured: number | undefined }> {
  await sql`
    insert into projection_partitioning (id, partitions)
    select true, case when exists (select 1 from projection_checkpoints) then 1 else ${configured ?? 1}::int end
    on conflict (id) do nothing`.execute(db);
  const { rows } = await sql<{ partitions: number }>`select partitions from projection_partitioning`.execute(db);
  return { partitions: Number(rows[0]!.partitions), configured };
}
