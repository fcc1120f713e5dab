import { sql, type Kysely } from 'kysely';
import type { Tables } from '../../database/tables.js';

/** Columns that legitimately differ between a live read model and its rebuild (wall-clock times). */
export const VOLATILE_COLUMNS = new Set(['updated_at']);

/** Rows no event produces (written by `models reproject`): kept across rebuilds, left out of verification. */
export const NON_EVENT_ROWS = sql`source = 'reprojection'`;

export interface TableShape {
  columns: string[];
  primaryKey: string[];
  hasSource: boolean;
}

export async function tableShape(db: Kysely<Tables>, schema: string, table: string): Promise<TableShape> {
  const { rows: cols } = await sql<{ column_name: string }>`
    select column_name from information_schema.columns where table_schema = ${schema} and table_name = ${table}
    order by ordinal_position`.execute(db);
  if (cols.length === 0) throw new Error(`table ${schema}.${table} does not exist`);
  const { rows: pk } = await sql<{ column_name: string }>`
    select a.attname as column_name
    from pg_index i
    join pg_class c on c.oid = i.indrelid
    join pg_namespace n on n.oid = c.relnamespace
    join lateral unnest(i.indkey) with ordinality as k(attnum, ord) on true
    join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
    where i.indisprimary and n.nspname = ${schema} and c.relname = ${table}
    order by k.ord`.execute(db);
  const columns = cols.map((c) => c.column_name);
  return { columns, primaryKey: pk.map((p) => p.column_name), hasSource: columns.includes('source') };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates empty copies of `tables` (and a checkpoint table) in `schema`: same columns, defaults, checks, primary key
 * and unique indexes (ON CONFLICT needs them). Other indexes are returned as statements to run once the bulk of the
 * replay is in (building an index once is cheaper than maintaining it row by row); a verify never needs them.
 */
export async function createShadowTables(db: Kysely<Tables>, schema: string, tables: readonly string[], timescale: boolean): Promise<string[]> {
  await sql`create schema ${sql.id(schema)}`.execute(db);
  const deferred: string[] = [];
  for (const table of [...tables, 'projection_checkpoints']) {
    await sql`create table ${sql.table(`${schema}.${table}`)} (like ${sql.table(`public.${table}`)} including all excluding indexes)`.execute(db);
    const { rows: indexes } = await sql<{ def: string; primary: boolean; unique: boolean }>`
      select pg_get_indexdef(i.indexrelid) as def, i.indisprimary as primary, i.indisunique as unique
      from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname = ${table}
      order by i.indexrelid`.execute(db);
    const shape = await tableShape(db, 'public', table);
    for (const index of indexes) {
      if (index.primary) {
        await sql.raw(`alter table ${quoteIdent(schema)}.${quoteIdent(table)} add primary key (${shape.primaryKey.map(quoteIdent).join(', ')})`).execute(db);
        continue;
      }
      const def = index.def.replace(` ON public.${table} `, ` ON ${quoteIdent(schema)}.${quoteIdent(table)} `);
      if (def === index.def) throw new Error(`cannot retarget index definition to ${schema}: ${index.def}`);
      if (index.unique) await sql.raw(def).execute(db);
      else deferred.push(def);
    }
    if (timescale && table !== 'projection_checkpoints') await copyHypertable(db, schema, table);
  }
  return deferred;
}

/**
 * A shadow of a hypertable becomes a hypertable with the same time column and chunk interval. Without its default
 * index: the live table's indexes, that one included, are copied by the caller (else the copy clashes with it).
 */
async function copyHypertable(db: Kysely<Tables>, schema: string, table: string): Promise<void> {
  const { rows } = await sql<{ column_name: string; time_interval: string }>`
    select column_name, time_interval::text as time_interval from timescaledb_information.dimensions
    where hypertable_schema = 'public' and hypertable_name = ${table} and dimension_number = 1`.execute(db);
  const dim = rows[0];
  if (!dim) return;
  await sql`select create_hypertable(${`${schema}.${table}`}::regclass, ${dim.column_name}::name,
    chunk_time_interval => ${dim.time_interval}::interval, create_default_indexes => false)`.execute(db);
}

export async function isHypertable(db: Kysely<Tables>, table: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from timescaledb_information.hypertables where hypertable_schema = 'public' and hypertable_name = ${table}`.execute(db);
  return (rows[0]?.n ?? 0) > 0;
}

export async function dropSchema(db: Kysely<Tables>, schema: string): Promise<void> {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
}
