import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** The lock file inside DATA_DIR; it holds the owner's pid, its start time, host and role. */
export const LOCK_FILE = 'owner.lock';

export type DataDirOwner = 'service' | 'cli';

interface LockRecord {
  pid: number;
  /** /proc start time of the pid (clock ticks since boot): a reused pid is not the owner. */
  start: string | null;
  host: string;
  role: DataDirOwner;
  since: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockRecord,
    wanted: DataDirOwner,
  ) {
    const by = holder.role === 'service' ? 'the running service' : 'a CLI command';
    const advice =
      wanted === 'cli'
        ? 'stop the service first (PGlite allows one process per data directory), or run the service and the CLI in server mode (DATABASE_URL)'
        : 'wait for the command to finish, or stop it';
    super(`DATA_DIR ${dataDir} is in use by ${by} (pid ${holder.pid} on ${holder.host}, since ${holder.since}): ${advice}. Lock file: ${join(dataDir, LOCK_FILE)}`);
  }
}

export interface DataDirLock {
  release(): void;
}

/**
 * One owner per embedded data directory: PGlite is single-process, and a second opener corrupts what the
 * first one sees (issue #17: `projections rebuild` next to a running service made it answer 500 until
 * restarted). An O_EXCL lock file; a lock whose pid is gone (kill -9, power loss) is stale and taken over.
 * `memory://` and server mode need no lock. Released on close and at process exit.
 */
export function lockDataDir(dataDir: string, role: DataDirOwner): DataDirLock {
  if (dataDir.startsWith('memory://')) return { release: () => undefined };
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOCK_FILE);
  const mine: LockRecord = { pid: process.pid, start: startTime(process.pid), host: hostname(), role, since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${JSON.stringify(mine)}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
      const seen = readRaw(file);
      const holder = parseLock(seen);
      if (holder && isAlive(holder)) throw new DataDirLockedError(dataDir, holder, role);
      // Stale (its process is gone) or half-written by a process that died mid-write: take it over, unless
      // another opener already did (then its fresh lock is left alone and the next O_EXCL fails on it).
      try {
        if (readRaw(file) === seen) unlinkSync(file);
      } catch {
        /* removed meanwhile; the next O_EXCL decides */
      }
    }
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    const holder = parseLock(readRaw(file));
    if (holder?.pid === process.pid) {
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', release);
  return { release };
}

function readRaw(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseLock(text: string | undefined): LockRecord | undefined {
  try {
    const record = JSON.parse(text ?? '') as LockRecord;
    return typeof record.pid === 'number' ? record : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockRecord): boolean {
  // Another host sharing the directory (a network volume): its pid cannot be checked from here.
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = startTime(holder.pid);
  return holder.start === null || start === null || start === holder.start;
}

/** Field 22 of /proc/<pid>/stat; null where /proc is not available. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
