import { sql, type Kysely } from 'kysely';
import type { Database } from '../../database/database.js';
import type { Tables } from '../../database/tables.js';
import { comparePositions, type EventStore, type Position, type RecordedEvent } from '../../event-store/event-store.js';
import { upcast } from '../../events/event-registry.js';
import { readPartitionCount } from '../../projections/checkpoints.js';
import { consumerOf, slotOf } from '../../projections/partitions/unit-names.js';
import type { Projection } from '../../projections/projection.js';
import { applyBatch, readCheckpoint, storeCheckpoint } from '../../projections/projection-runner.js';
import {
  createShadowTables,
  dropSchema,
  isHypertable,
  NON_EVENT_ROWS,
  quoteIdent,
  tableShape,
  VOLATILE_COLUMNS,
} from './projection-tables.js';

export interface OperationsContext {
  database: Database;
  store: EventStore;
  /** Events per transaction while replaying (never one giant transaction: the event store only shows events below the oldest running one). */
  batchSize?: number;
  onProgress?: (progress: { events: number; position: Position; target: Position | undefined }) => void;
}

const MAX_SWAP_ATTEMPTS = 20;

/**
 * Rebuild and verify bring a replay to the live projection's one position; P partitions stand at P positions.
 * Until they handle that, they refuse instead of swapping tables under partitions at other positions.
 */
async function refusePartitioned(ctx: OperationsContext, projection: Projection, what: string): Promise<void> {
  if (!projection.partitioned) return;
  const partitions = await readPartitionCount(ctx.database.db);
  if (partitions > 1) {
    throw new Error(`${projection.name} runs as ${partitions} partitions, each at its own position: ${what} needs one. Run \`projections repartition --partitions 1\` first (it brings them to one position), then ${what}, then repartition back`);
  }
}

function stamp(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

async function timescaleInstalled(database: Database): Promise<boolean> {
  return (await database.extensions()).timescaledb;
}

/**
 * Replays the global log into `schema` from its own checkpoint there, batch by batch (one transaction each),
 * never past `target()` (the live checkpoint, re-read every batch; undefined = up to the head).
 */
async function replayInto(
  ctx: OperationsContext,
  projection: Projection,
  schema: string,
  target: () => Promise<Position | undefined>,
  counter: { events: number },
): Promise<Position | undefined> {
  const db = ctx.database.db;
  let position = await readCheckpoint(db.withSchema(schema), projection.name);
  for (;;) {
    const until = await target();
    if (until && position && comparePositions(position, until) >= 0) return position;
    let batch = await ctx.store.readAll({ after: position, limit: ctx.batchSize ?? 1000 });
    if (until) batch = batch.filter((e) => comparePositions(e.position, until) <= 0);
    if (batch.length === 0) return position;
    await applyBatch(db, projection, batch, schema, projection.name);
    position = batch[batch.length - 1]!.position;
    counter.events += batch.length;
    ctx.onProgress?.({ events: counter.events, position, target: until });
  }
}

/** Inside the swap/compare transaction (PostgreSQL): applies the few events the live projection committed meanwhile. */
async function catchUpInTransaction(
  ctx: OperationsContext,
  trx: Kysely<Tables>,
  projection: Projection,
  schema: string,
  from: Position | undefined,
  until: Position,
  counter: { events: number },
): Promise<Position | undefined> {
  let position = from;
  for (;;) {
    const batch = (await ctx.store.readAll({ after: position, limit: ctx.batchSize ?? 1000 })).filter((e) => comparePositions(e.position, until) <= 0);
    if (batch.length === 0) return position;
    await projection.apply({ trx, schema }, batch.map(upcast) as RecordedEvent[]);
    position = batch[batch.length - 1]!.position;
    counter.events += batch.length;
  }
}

function samePosition(a: Position | undefined, b: Position | undefined): boolean {
  return a === undefined || b === undefined ? a === b : comparePositions(a, b) === 0;
}

/**
 * Brings `schema` to exactly the live checkpoint and runs `atSamePosition` in a transaction that holds the live
 * tables locked (`mode`), so the live projection cannot move while the work happens. The live projection keeps
 * serving (and writing) during the long replay; only the final step blocks it briefly.
 */
async function atLiveCheckpoint<T>(
  ctx: OperationsContext,
  projection: Projection,
  schema: string,
  mode: 'share' | 'access exclusive',
  counter: { events: number },
  atSamePosition: (trx: Kysely<Tables>, position: Position | undefined, live: Position | undefined) => Promise<T>,
  afterFirstReplay?: () => Promise<void>,
): Promise<T> {
  const db = ctx.database.db;
  for (let attempt = 1; attempt <= MAX_SWAP_ATTEMPTS; attempt++) {
    const replayed = await replayInto(ctx, projection, schema, () => readCheckpoint(db, projection.name), counter);
    if (attempt === 1) await afterFirstReplay?.();
    const outcome = await db.transaction().execute(async (trx) => {
      const tables = projection.tables.map((t) => `public.${t}`).join(', ');
      await sql.raw(`lock table ${tables} in ${mode} mode`).execute(trx);
      const live = await readCheckpoint(trx, projection.name);
      let position = replayed;
      if (!samePosition(position, live) && live && ctx.database.backend === 'postgres') {
        // The live projection committed more meanwhile; it cannot now (locked). Apply the gap here.
        position = await catchUpInTransaction(ctx, trx, projection, schema, position, live, counter);
        if (position) await storeCheckpoint(trx, projection.name, position, schema);
      }
      if (live && !samePosition(position, live)) return { done: false as const };
      return { done: true as const, value: await atSamePosition(trx, position, live) };
    });
    if (outcome.done) return outcome.value;
  }
  throw new Error(`${projection.name}: the live projection kept moving; gave up after ${MAX_SWAP_ATTEMPTS} attempts`);
}

export interface RebuildResult {
  projection: string;
  events: number;
  checkpoint: Position | undefined;
  swap: Record<string, 'rename' | 'copy'>;
  seconds: number;
}

/**
 * Blue/green rebuild: replays from position 0 into a shadow schema while the service keeps serving, then swaps
 * the tables in one transaction (moving the shadow tables into `public`; on TimescaleDB hypertables, whose
 * continuous aggregates and policies are bound to the table, by copying into it, then refreshing those
 * aggregates) and sets the checkpoint.
 * Rows written without events (source = 'reprojection') are carried over.
 */
export async function rebuildProjection(ctx: OperationsContext, projection: Projection): Promise<RebuildResult> {
  await refusePartitioned(ctx, projection, 'rebuild');
  const started = performance.now();
  const db = ctx.database.db;
  const shadow = `rebuild_${projection.name}_${stamp()}`;
  const old = `${shadow}_old`;
  const timescale = await timescaleInstalled(ctx.database);
  const counter = { events: 0 };
  const deferredIndexes = await createShadowTables(db, shadow, projection.tables, timescale);
  try {
    const result = await atLiveCheckpoint(ctx, projection, shadow, 'access exclusive', counter, async (trx, position, live) => {
      const swap: Record<string, 'rename' | 'copy'> = {};
      await sql`create schema ${sql.id(old)}`.execute(trx);
      for (const table of projection.tables) {
        const shape = await tableShape(trx, 'public', table);
        const cols = sql.raw(shape.columns.map(quoteIdent).join(', '));
        if (shape.hasSource) {
          await sql`insert into ${sql.table(`${shadow}.${table}`)} (${cols})
            select ${cols} from ${sql.table(`public.${table}`)} where ${NON_EVENT_ROWS} on conflict do nothing`.execute(trx);
        }
        if (timescale && (await isHypertable(trx, table))) {
          await sql`truncate ${sql.table(`public.${table}`)}`.execute(trx);
          await sql`insert into ${sql.table(`public.${table}`)} (${cols}) select ${cols} from ${sql.table(`${shadow}.${table}`)}`.execute(trx);
          swap[table] = 'copy';
        } else {
          await sql`alter table ${sql.table(`public.${table}`)} set schema ${sql.id(old)}`.execute(trx);
          await sql`alter table ${sql.table(`${shadow}.${table}`)} set schema public`.execute(trx);
          swap[table] = 'rename';
        }
      }
      if (position && !samePosition(position, live)) await storeCheckpoint(trx, projection.name, position);
      return { position, swap };
    }, async () => {
      // The secondary indexes, built once over the replayed rows, before the tables go live.
      for (const def of deferredIndexes) await sql.raw(def).execute(db);
    });
    const copied = Object.entries(result.swap).filter(([, how]) => how === 'copy').map(([table]) => table);
    if (copied.length) await refreshContinuousAggregates(db, copied);
    return {
      projection: projection.name,
      events: counter.events,
      checkpoint: result.position,
      swap: result.swap,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await dropSchema(db, shadow);
    await dropSchema(db, old);
  }
}

/**
 * A hypertable refilled by a swap leaves its continuous aggregates' materialised buckets as they were: real-time
 * aggregation only covers the range above the watermark, and the refresh policies only their recent windows. So
 * the whole range is refreshed now (outside any transaction: TimescaleDB refuses one).
 */
async function refreshContinuousAggregates(db: Kysely<Tables>, hypertables: string[]): Promise<void> {
  const { rows } = await sql<{ view: string }>`select format('%I.%I', view_schema, view_name) as view
    from timescaledb_information.continuous_aggregates where hypertable_schema = 'public' and hypertable_name = any(${hypertables}::text[])
    order by view_name`.execute(db);
  for (const { view } of rows) await sql.raw(`call refresh_continuous_aggregate(${quoteLiteral(view)}, null, null)`).execute(db);
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export interface TableComparison {
  table: string;
  live: { rows: number; checksum: string };
  rebuilt: { rows: number; checksum: string };
  onlyInLive: number;
  onlyInRebuilt: number;
  equal: boolean;
}

export interface VerifyResult {
  projection: string;
  checkpoint: Position | undefined;
  events: number;
  equal: boolean;
  tables: TableComparison[];
  excludedColumns: string[];
}

async function digest(trx: Kysely<Tables>, schema: string, table: string, columns: string[], order: string[], where: ReturnType<typeof sql>) {
  const row = sql.raw(`row(${columns.map(quoteIdent).join(', ')})::text`);
  const orderBy = sql.raw(order.map(quoteIdent).join(', '));
  const { rows } = await sql<{ rows: number; checksum: string | null }>`
    select count(*)::int as rows, md5(string_agg(md5(${row}), '' order by ${orderBy})) as checksum
    from ${sql.table(`${schema}.${table}`)} where ${where}`.execute(trx);
  return { rows: rows[0]!.rows, checksum: rows[0]!.checksum ?? md5Empty };
}
const md5Empty = 'd41d8cd98f00b204e9800998ecf8427e';

/**
 * Rebuilds into a scratch schema up to the live checkpoint and compares it with the live read model inside one
 * transaction holding the live tables (share lock): row counts, checksums of the ordered rows (volatile columns
 * and rows written without events left out) and the rows found on one side only.
 */
export async function verifyProjection(ctx: OperationsContext, projection: Projection): Promise<VerifyResult> {
  await refusePartitioned(ctx, projection, 'verify');
  const db = ctx.database.db;
  const scratch = `verify_${projection.name}_${stamp()}`;
  const timescale = await timescaleInstalled(ctx.database);
  const counter = { events: 0 };
  await createShadowTables(db, scratch, projection.tables, timescale);
  try {
    const { position, tables } = await atLiveCheckpoint(ctx, projection, scratch, 'share', counter, async (trx, position) => {
      const tables: TableComparison[] = [];
      for (const table of projection.tables) {
        const shape = await tableShape(trx, 'public', table);
        const columns = shape.columns.filter((c) => !VOLATILE_COLUMNS.has(c));
        const order = shape.primaryKey.length ? shape.primaryKey : columns;
        const where = shape.hasSource ? sql`not (${NON_EVENT_ROWS})` : sql`true`;
        const live = await digest(trx, 'public', table, columns, order, where);
        const rebuilt = await digest(trx, scratch, table, columns, order, where);
        const cols = sql.raw(columns.map(quoteIdent).join(', '));
        const diff = async (a: string, b: string) =>
          (
            await sql<{ n: number }>`select count(*)::int as n from (
              select ${cols} from ${sql.table(`${a}.${table}`)} where ${where}
              except all
              select ${cols} from ${sql.table(`${b}.${table}`)} where ${where}) d`.execute(trx)
          ).rows[0]!.n;
        const onlyInLive = await diff('public', scratch);
        const onlyInRebuilt = await diff(scratch, 'public');
        tables.push({
          table,
          live,
          rebuilt,
          onlyInLive,
          onlyInRebuilt,
          equal: live.rows === rebuilt.rows && live.checksum === rebuilt.checksum && onlyInLive === 0 && onlyInRebuilt === 0,
        });
      }
      return { position, tables };
    });
    return {
      projection: projection.name,
      checkpoint: position,
      events: counter.events,
      equal: tables.every((t) => t.equal),
      tables,
      excludedColumns: [...VOLATILE_COLUMNS],
    };
  } finally {
    await dropSchema(db, scratch);
  }
}

export interface ProjectionLag {
  name: string;
  checkpoint: Position | undefined;
  updatedAt: string | null;
  lagEvents: number | null;
  known: boolean;
}

/** Checkpoint and lag (events not yet processed) of every projection and every other checkpointed subscriber. */
export async function projectionStatus(ctx: Pick<OperationsContext, 'database' | 'store'>, projections: readonly Projection[]): Promise<ProjectionLag[]> {
  const db = ctx.database.db;
  const rows = await db.selectFrom('projection_checkpoints').select(['name', 'commit_position', 'prepare_position', 'updated_at']).orderBy('name').execute();
  // A projection running as partitions shows each partition (`name#i/P`) instead of its own name.
  const stored = new Set(rows.map((r) => consumerOf(r.name)));
  const names = [...new Set([...projections.filter((p) => !stored.has(p.name)).map((p) => p.name), ...rows.map((r) => r.name)])].sort();
  const out: ProjectionLag[] = [];
  for (const name of names) {
    const row = rows.find((r) => r.name === name);
    const checkpoint = row ? { commit: Number(row.commit_position), prepare: Number(row.prepare_position) } : undefined;
    let lagEvents: number | null = null;
    if (ctx.store.adapter !== 'eventstoredb') {
      const after = checkpoint
        ? sql`and (transaction_id, global_position) > (${String(checkpoint.commit)}::xid8, ${checkpoint.prepare}::bigint)`
        : sql``;
      const slot = slotOf(name);
      const mine = slot ? sql`and (partition_key is null or partition_key % ${slot.count}::int = ${slot.index}::int)` : sql``;
      const { rows: n } = await sql<{ n: number }>`select count(*)::int as n from events
        where transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ${after} ${mine}`.execute(db);
      lagEvents = n[0]!.n;
    } else {
      const head = await ctx.store.headPosition();
      lagEvents = head ? Math.max(0, head.prepare - (checkpoint?.prepare ?? -1)) : 0;
    }
    out.push({
      name,
      checkpoint,
      updatedAt: row ? new Date(row.updated_at).toISOString() : null,
      lagEvents,
      known: projections.some((p) => p.name === consumerOf(name)),
    });
  }
  return out;
}
