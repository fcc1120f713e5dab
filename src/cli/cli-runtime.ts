import type { AppConfig } from '../config/config.schema.js';
import { loadConfig } from '../config/load-config.js';
import { createDatabase } from '../database/create-database.js';
import { lockDataDir } from '../database/data-dir-lock.js';
import type { Database } from '../database/database.js';
import { createEventStore } from '../event-store/create-event-store.js';
import type { EventStore } from '../event-store/event-store.js';

/**
 * What a CLI command works on, opened from the same settings as the service (DATABASE_URL, DATA_DIR,
 * EVENTSTORE_URL; see src/config). Commands open it lazily so `--help` needs no database.
 * Embedded mode: PGlite allows one process per data directory; a directory the service (or another command)
 * holds is refused with a DataDirLockedError (src/database/data-dir-lock.ts).
 */
export interface CliRuntime {
  config: AppConfig;
  database: Database;
  store: EventStore;
  close(): Promise<void>;
}

export async function openRuntime(env: NodeJS.ProcessEnv = process.env): Promise<CliRuntime> {
  const config = loadConfig(env);
  const lock = config.DATABASE_URL ? undefined : lockDataDir(config.DATA_DIR, 'cli');
  let database: Database | undefined;
  try {
    database = await createDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 });
    const store = await createEventStore(config, database);
    const opened = database;
    return {
      config,
      database: opened,
      store,
      async close() {
        await store.close();
        await opened.close();
        lock?.release();
      },
    };
  } catch (error) {
    await database?.close();
    lock?.release();
    throw error;
  }
}

/** Runs `work` with an open runtime and always closes it. */
export async function withRuntime<T>(work: (runtime: CliRuntime) => Promise<T>, env?: NodeJS.ProcessEnv): Promise<T> {
  const runtime = await openRuntime(env);
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}
