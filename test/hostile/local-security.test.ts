import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { createApp } from '../../src/app.factory.js';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import type { Database } from '../../src/database/database.js';
import { DATABASE } from '../../src/infrastructure/tokens.js';
import { healthBucketFor } from '../../src/queries/health/health-cache.js';
import { captureLogs } from '../http/log-capture.js';

/** Issue #20, local security: owner-only DATA_DIR, no password in a config error, a namespaced NATS KV bucket. */
describe('local security', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostile-datadir-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function modes(dir: string): Promise<{ path: string; mode: number; dir: boolean }[]> {
    const out: { path: string; mode: number; dir: boolean }[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      const path = join(entry.parentPath, entry.name);
      out.push({ path, mode: (await stat(path)).mode & 0o777, dir: entry.isDirectory() });
    }
    return out;
  }

  it('creates DATA_DIR 0700 and every file in it 0600 (embedded mode, PGlite and the key file)', async () => {
    const dir = join(await tempDir(), 'data');
    const app = await createApp(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), captureLogs('silent').logger);
    await app.init();
    await app.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const all = await modes(dir);
    expect(all.length).toBeGreaterThan(10);
    const loose = all.filter((f) => f.mode & 0o077);
    expect(loose).toEqual([]);
    console.log(`DATA_DIR: ${all.filter((f) => !f.dir).length} files, all 0600; ${all.filter((f) => f.dir).length} directories, all 0700`);
  }, 240_000);

  it('keeps files PGlite creates while running 0600 (new WAL segments and relation files), not only at start and stop', async () => {
    const dir = join(await tempDir(), 'data');
    const app = await createApp(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), captureLogs('silent').logger);
    try {
      await app.init();
      const before = new Set((await modes(dir)).map((f) => f.path));
      // about 40 MB: new relation files, and WAL beyond its first 16 MB segment
      const db = app.get<Database>(DATABASE).db;
      await sql`create table hostile_growth as select g, repeat(md5(g::text), 4) as pad from generate_series(1, 250000) g`.execute(db);
      await sql`checkpoint`.execute(db);
      const all = await modes(dir);
      const created = all.filter((f) => !before.has(f.path) && !f.dir);
      expect(created.length).toBeGreaterThan(0);
      console.log(`DATA_DIR while running: ${created.length} files created after start-up, e.g. ${created.slice(0, 3).map((f) => `${f.path.slice(dir.length)} ${f.mode.toString(8)}`).join(', ')}`);
      // checked before close: the shutdown tightening must not be what makes them owner-only
      expect(all.filter((f) => f.mode & 0o077).map((f) => `${f.path.slice(dir.length)} ${f.mode.toString(8)}`)).toEqual([]);
    } finally {
      await app.close();
    }
  }, 240_000);

  it('tightens an existing DATA_DIR and its files, and refuses one that other users can write, with the fix in the message', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755);
    const app = await createApp(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), captureLogs('silent').logger);
    await app.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);

    const open = await tempDir();
    await chmod(open, 0o777);
    const error = await createApp(loadConfig({ DATA_DIR: open, LOG_LEVEL: 'silent' }), captureLogs('silent').logger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`chmod 700 ${open}`);
    expect(await readdir(open)).toEqual([]); // nothing written into it, not even the key file
  }, 240_000);

  it('names a malformed DATABASE_URL, NATS_URL or EVENTSTORE_URL without its password or query', () => {
    const bad = {
      DATABASE_URL: 'mysql://app:Sup3rSecret!@db:3306/x',
      NATS_URL: 'http://nats-user:NatsPa55@nats:4222',
      EVENTSTORE_URL: 'esd://admin:changeit-pw@kurrent:2113?tls=false&password=qs-secret',
    };
    const error = (() => {
      try {
        loadConfig(bad);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(3);
    expect(error!.message).not.toMatch(/Sup3rSecret|NatsPa55|changeit-pw|qs-secret/);
    expect(error!.message).toContain('mysql://[redacted]@db:3306/x');
  });

  it('gives each deployment its own NATS KV bucket, unless one is configured', () => {
    const a = healthBucketFor({ DATABASE_URL: 'postgres://a@db/one', DATA_DIR: './data' });
    const b = healthBucketFor({ DATABASE_URL: 'postgres://a@db/two', DATA_DIR: './data' });
    expect(a).toMatch(/^health_cache_[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(healthBucketFor({ DATABASE_URL: 'postgres://a@db/one', DATA_DIR: './data' })).toBe(a);
    expect(healthBucketFor({ HEALTH_CACHE_BUCKET: 'plant_7', DATA_DIR: './data' })).toBe('plant_7');
  });
});
