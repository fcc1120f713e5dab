import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.js';
import { EventLoopTurnsPlugin } from './event-loop-turns.plugin.js';
import { secureDataDir, tightenDataDir } from './secure-data-dir.js';
import type { Tables } from './tables.js';

// BIGINT (int8) comes back as string by default; positions and counts fit in a JS number long before 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface DatabaseOptions {
  /** postgres:// URL; without it PGlite is used. */
  url?: string;
  /** PGlite data directory; `memory://` for an in-memory database. */
  dataDir?: string;
  poolSize?: number;
  /** PGlite only: start from this data-directory tarball (tests load a migrated template). */
  loadDataDir?: Blob;
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? createPostgres(options.url, options.poolSize ?? 10) : createPglite(options.dataDir ?? 'memory://', options.loadDataDir);
}

async function detectTimescale(db: Kysely<Tables>): Promise<{ timescaledb: boolean }> {
  const { rows } = await sql<{ installed: boolean }>`
    select exists (select 1 from pg_extension where extname = 'timescaledb') as installed`.execute(db);
  return { timescaledb: rows[0]?.installed === true };
}

async function createPostgres(url: string, poolSize: number): Promise<Database> {
  // A bounded connect: while the server is down or restarting, a request fails fast (503) instead of waiting.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'anomaly-platform', connectionTimeoutMillis: 5_000 });
  // An idle pooled connection that the server ends (restart, pg_terminate_backend, DROP DATABASE ... FORCE)
  // is emitted here; the pool has already discarded it and the next query opens a new one. Without a
  // listener node would treat it as an unhandled 'error' event and exit.
  pool.on('error', () => undefined);
  // The pool listens for errors only on idle connections. One that is checked out (a transaction between two
  // statements) and ended by the server (restart, pg_terminate_backend) would emit an unhandled 'error' and
  // end the process (issue #17, found by the soak). Its query fails instead; the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // Fail at start-up with the server's message rather than on the first request.
  const probe = await pool.connect();
  probe.release();
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Map<string, Set<() => void>>();
  let listenClient: pg.Client | undefined;

  async function ensureListenClient(): Promise<pg.Client> {
    if (listenClient) return listenClient;
    const client = new pg.Client({ connectionString: url, application_name: 'anomaly-platform-listen' });
    await client.connect();
    client.on('notification', (msg) => listeners.get(msg.channel)?.forEach((fn) => fn()));
    // A dropped LISTEN connection only costs latency: subscribers also poll.
    client.on('error', () => {
      listenClient = undefined;
    });
    listenClient = client;
    return client;
  }

  return {
    backend: 'postgres',
    db,
    async listen(channel, onNotify) {
      const client = await ensureListenClient();
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      set.add(onNotify);
      return async () => {
        set!.delete(onNotify);
      };
    },
    async runScript(script, trx) {
      // Without parameters node-postgres uses the simple query protocol, which accepts several statements.
      await sql.raw(script).execute(trx);
    },
    extensions: () => detectTimescale(db),
    async close() {
      await listenClient?.end().catch(() => undefined);
      await db.destroy();
    },
  };
}

async function createPglite(dataDir: string, loadDataDir?: Blob): Promise<Database> {
  if (!dataDir.startsWith('memory://')) secureDataDir(dataDir);
  const client = await PGlite.create(dataDir, loadDataDir ? { loadDataDir } : {});
  const onDisk = !dataDir.startsWith('memory://');
  if (onDisk) tightenDataDir(dataDir);
  const db = new Kysely<Tables>({ dialect: new PGliteDialect(client), plugins: [new EventLoopTurnsPlugin()] });
  return {
    backend: 'pglite',
    db,
    pglite: client,
    async listen(channel, onNotify) {
      const unsubscribe = await client.listen(channel, onNotify);
      return unsubscribe;
    },
    async runScript(script) {
      // PGlite has one session: exec runs inside the migrator's open transaction.
      await client.exec(script);
    },
    extensions: () => detectTimescale(db),
    async close() {
      await db.destroy();
      if (onDisk) tightenDataDir(dataDir);
    },
  };
}
