import { sql } from 'kysely';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import type { EventStore, Position } from '../../event-store/event-store.js';
import { INFERENCE_SAGA } from '../../inference/inference.saga.js';
import { PartitionedInferenceSaga } from '../../inference/partitioned-inference-saga.js';
import type { WindowScorer } from '../../inference/window-scorer.js';
import { readPartitionCount } from '../checkpoints.js';
import type { Projection } from '../projection.js';
import { ProjectionRunner } from '../projection-runner.js';
import { createLeaseBackend } from './create-lease-backend.js';
import type { LeaseBackend } from './lease-backend.js';
import { checkFence, takeFence, type Fence } from './lease-fence.js';
import { slots, unitName } from './unit-names.js';

export interface RepartitionOptions {
  config: AppConfig;
  database: Database;
  store: EventStore;
  /** Every projection; the partitioned ones are moved. */
  projections: readonly Projection[];
  /** The saga's scorer (to bring its partitions to the common position); null when no model loads. */
  scorer: WindowScorer | null;
  to: number;
  /** How long to wait for running workers to give the leases up. */
  timeoutMs?: number;
  log?: (message: string) => void;
  /** Test hook: the lease backend to use (default: the one the workers use). */
  backend?: LeaseBackend;
}

export interface RepartitionResult {
  from: number;
  to: number;
  position: Position | undefined;
  moved: string[];
  seconds: number;
}

/**
 * `projections repartition --partitions Q`: changes P. It takes every lease of the partitioned consumers (so no
 * worker runs them meanwhile: stop or scale the workers down first; the API may keep ingesting), brings each of the
 * P partitions to one position, the log's head H at the start (processing what they still lack, with the same code the
 * workers run), and then, in one transaction with every fence checked, replaces the P checkpoints of each consumer by
 * Q checkpoints at H and stores Q. The saga's state rows are per equipment and stay where they are; its adopted model
 * version moves with the checkpoints. Workers started afterwards run Q partitions from H.
 */
export async function repartition(o: RepartitionOptions): Promise<RepartitionResult> {
  const started = Date.now();
  if (o.store.adapter === 'eventstoredb') {
    throw new Error('repartition needs the PostgreSQL event store (it bounds each partition at one position); on EventStoreDB, stop ingest, let the workers reach the head, then run it');
  }
  const db = o.database.db;
  const from = await readPartitionCount(db);
  const log = o.log ?? (() => undefined);
  if (from === o.to) return { from, to: o.to, position: undefined, moved: [], seconds: 0 };
  const partitioned = o.projections.filter((p) => p.partitioned);
  const head = await o.store.headPosition();
  const runner = new ProjectionRunner(o.database, o.store, partitioned, { partitions: from, restartDelayMs: 500, ...(head ? { until: head } : {}) });
  const saga = o.scorer
    ? new PartitionedInferenceSaga(o.database, o.store, o.scorer, { flushTimeoutMs: o.config.SAGA_FLUSH_TIMEOUT_MS, batchSize: o.config.PROJECTION_BATCH_SIZE, restartDelayMs: 500, ...(head ? { until: head } : {}) }, from)
    : null;
  const units = [...runner.units, ...(saga?.units ?? [])];
  const consumers = [...partitioned.map((p) => p.name), ...(saga ? [INFERENCE_SAGA] : [])];
  const backend = o.backend ?? createLeaseBackend(o.config, o.database);
  await backend.start(() => undefined);
  try {
    // 1. Every lease: no worker runs these consumers while they move.
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    for (;;) {
      for (const unit of units) await backend.tryAcquire(unit.name);
      const missing = units.filter((u) => !backend.held().includes(u.name));
      if (missing.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${missing.length} leases are held by running workers (e.g. ${missing[0]!.name}): stop the workers (ROLE=worker or all), then run repartition again`);
      log(`waiting for ${missing.length} leases held by running workers: stop them (ingest through ROLE=api may go on)`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const fences: Fence[] = [];
    for (const unit of units) fences.push(await takeFence(db, unit.name, `repartition ${backend.workerId}`));
    // 2. Every partition to H, the head when the command started.
    if (head) {
      log(`bringing ${units.length} partitions to ${head.commit}/${head.prepare}`);
      for (const [i, unit] of units.entries()) await unit.start(fences[i]!, () => log(`${unit.name}: fenced by another holder`));
      try {
        await runner.waitFor(head, o.timeoutMs ?? 600_000);
        await saga?.waitFor(head, o.timeoutMs ?? 600_000);
      } finally {
        await runner.stop();
        await saga?.stop();
      }
    }
    // 3. Move the checkpoints at once, with every fence checked.
    const moved: string[] = [];
    await db.transaction().execute(async (trx) => {
      for (const fence of fences) await checkFence(trx, fence);
      for (const consumer of consumers) {
        const oldNames = slots(from).map((slot) => unitName(consumer, slot));
        const newNames = slots(o.to).map((slot) => unitName(consumer, slot));
        if (consumer === INFERENCE_SAGA) {
          const { rows } = await sql<{ model_version: string }>`select distinct model_version from inference_saga_model where name = any(${oldNames}::text[])`.execute(trx);
          if (rows.length > 1) throw new Error(`the saga's partitions run different model versions (${rows.map((r) => r.model_version).join(', ')}) at the common position: not moved`);
          await sql`delete from inference_saga_model where name = any(${oldNames}::text[])`.execute(trx);
          for (const name of rows.length ? newNames : []) await sql`insert into inference_saga_model (name, model_version) values (${name}, ${rows[0]!.model_version})`.execute(trx);
        }
        await sql`delete from projection_checkpoints where name = any(${oldNames}::text[])`.execute(trx);
        if (head) {
          for (const name of newNames) {
            await sql`insert into projection_checkpoints (name, commit_position, prepare_position, updated_at) values (${name}, ${head.commit}, ${head.prepare}, now())`.execute(trx);
          }
        }
        moved.push(...newNames);
      }
      await sql`delete from lease_fences where name = any(${fences.map((f) => f.name)}::text[])`.execute(trx);
      await sql`update projection_partitioning set partitions = ${o.to}, changed_at = now()`.execute(trx);
    });
    return { from, to: o.to, position: head, moved, seconds: (Date.now() - started) / 1000 };
  } finally {
    await saga?.close();
    await backend.close();
  }
}
