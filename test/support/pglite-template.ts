import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createDatabase } from '../../src/database/create-database.js';
import { migrateToLatest, MIGRATIONS_DIR } from '../../src/database/migrate.js';

/**
 * A migrated, empty PGlite data directory as a tarball, made once per migrations version and cached in the
 * OS temp folder: PGlite's initdb in WASM costs seconds per database, loading the tarball a fraction of that.
 */
let cached: Promise<Blob> | undefined;

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await readdir(MIGRATIONS_DIR)).sort()) hash.update(file).update(await readFile(join(MIGRATIONS_DIR, file)));
  return hash.digest('hex').slice(0, 16);
}

async function build(): Promise<Blob> {
  const path = join(tmpdir(), `anomaly-platform-pglite-${await migrationsHash()}.tar`);
  if (existsSync(path)) return new Blob([await readFile(path)]);
  const database = await createDatabase({ dataDir: 'memory://' });
  await migrateToLatest(database);
  const client = (database as unknown as { pglite?: PGlite }).pglite;
  if (!client) throw new Error('createDatabase did not expose its PGlite client');
  const blob = await client.dumpDataDir('none');
  await database.close();
  // Write then rename: parallel jest workers never read a half-written file.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, Buffer.from(await blob.arrayBuffer()));
  await rename(partial, path);
  return blob;
}

export function pgliteTemplate(): Promise<Blob> {
  cached ??= build();
  return cached;
}

/** Fills an empty directory with the migrated template, ready for the service to open as its DATA_DIR. */
export async function prepareDataDir(dir: string): Promise<void> {
  const client = await PGlite.create(dir, { loadDataDir: await pgliteTemplate() });
  await client.close();
}
