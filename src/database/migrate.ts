import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { projectRoot } from '../config/paths.js';
import type { Database } from './database.js';

export const MIGRATIONS_DIR = join(projectRoot(), 'migrations');

/** Plain `.sql` files in `migrations/`, applied in file-name order by kysely's Migrator (table `kysely_migration`). */
class SqlFileMigrationProvider implements MigrationProvider {
  constructor(
    private readonly database: Database,
    private readonly dir: string,
  ) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.sql')).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const script = await readFile(join(this.dir, file), 'utf8');
      migrations[file.replace(/\.sql$/, '')] = {
        up: async (trx) => this.database.runScript(script, trx),
      };
    }
    return migrations;
  }
}

export class MigrationError extends Error {}

/** Applies pending migrations; idempotent. Returns the names applied by this call. */
export async function migrateToLatest(database: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: new SqlFileMigrationProvider(database, dir) });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
