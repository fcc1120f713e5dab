import { sql, type Kysely } from 'kysely';

/**
 * Whether the read models run on TimescaleDB, and if not, why: the extension is not on the server, the server does
 * not preload its library (CREATE EXTENSION would end the connection with a FATAL, so migration 0004 does not try),
 * or it is loadable but not created in this database (migrations not applied yet).
 */
export type TimescaleStatus =
  | { timescaledb: true; version: string }
  | { timescaledb: false; reason: 'not-available' | 'not-preloaded' | 'not-installed' };

/** The same test as migration 0004: `timescaledb` among the comma-separated shared_preload_libraries. */
export const PRELOADED_SQL = `'timescaledb' = any (select btrim(lib, ' "') from
  unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) as lib)`;

export async function timescaleStatus(db: Kysely<any>): Promise<TimescaleStatus> {
  const { rows } = await sql<{ version: string | null; available: boolean; preloaded: boolean }>`select
    (select extversion from pg_extension where extname = 'timescaledb') as version,
    exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
    ${sql.raw(PRELOADED_SQL)} as preloaded`.execute(db);
  const row = rows[0]!;
  if (row.version) return { timescaledb: true, version: row.version };
  if (!row.available) return { timescaledb: false, reason: 'not-available' };
  return { timescaledb: false, reason: row.preloaded ? 'not-installed' : 'not-preloaded' };
}
