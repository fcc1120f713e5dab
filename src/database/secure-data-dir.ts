import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/load-config.js';

/**
 * The embedded database and the key file are readable and writable by this user only: DATA_DIR 0700 (no other
 * user can even traverse it), files 0600. PGlite writes its initial data directory 0666 whatever the umask, and a
 * recycled WAL segment keeps the mode of the file it was: they are tightened here, after PGlite has opened the
 * directory, and when it closes. Files PostgreSQL creates while running are 0600 by its own create mode
 * (test/hostile/local-security.test.ts checks them before shutdown). Before, any local user could read the WAL —
 * every reading — and rewrite the log. A directory other users can write is refused: they could have replaced
 * files already.
 */
export function secureDataDir(dataDir: string): void {
  const dir = resolve(dataDir);
  try {
    process.umask(process.umask() | 0o077);
  } catch {
    /* worker threads cannot change the umask; the chmods below still hold for what exists */
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new ConfigError([`DATA_DIR=${dir} is not a directory`]);
  if (stat.mode & 0o022) {
    throw new ConfigError([
      `DATA_DIR=${dir} can be written by other users (mode ${(stat.mode & 0o777).toString(8)}); refusing to start. Fix: chmod 700 ${dir} (and check its files)`,
    ]);
  }
  if (process.getuid && stat.uid !== process.getuid()) return; // not ours to change; the check above holds
  tighten(dir);
}

/** Owner-only modes for DATA_DIR and everything in it. */
export function tightenDataDir(dataDir: string): void {
  const dir = resolve(dataDir);
  const stat = lstatSync(dir);
  if (!process.getuid || stat.uid === process.getuid()) tighten(dir);
}

function tighten(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) tighten(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}
