import { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { createDatabase } from '../database/create-database.js';
import { migrateToLatest } from '../database/migrate.js';

/** `migrate`: applies pending SQL migrations (migrations/*.sql) to the configured database. */
export function migrateCommand(): Command {
  return new Command('migrate').description('apply pending database migrations (idempotent)').action(async () => {
    const config = loadConfig();
    const database = await createDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 });
    try {
      const applied = await migrateToLatest(database);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: the database is up to date');
    } finally {
      await database.close();
    }
  });
}
