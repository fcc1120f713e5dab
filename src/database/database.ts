import type { PGlite } from '@electric-sql/pglite';
import type { Kysely } from 'kysely';
import type { Tables } from './tables.js';

export type Backend = 'postgres' | 'pglite';

/**
 * One SQL database (PostgreSQL through `pg`, or embedded PGlite) behind kysely, plus the two things
 * kysely does not model: LISTEN/NOTIFY and running a multi-statement SQL script.
 */
export interface Database {
  readonly backend: Backend;
  readonly db: Kysely<Tables>;
  /** The embedded PGlite instance (backend 'pglite' only), e.g. to dump its data directory. */
  readonly pglite?: PGlite;
  /** Subscribes to a NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /** Runs a script with several statements (migrations). Inside `trx` on PGlite's single session too. */
  runScript(script: string, trx: Kysely<Tables>): Promise<void>;
  /** Server features detected at start-up (e.g. TimescaleDB). */
  extensions(): Promise<{ timescaledb: boolean }>;
  close(): Promise<void>;
}
