import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnService } from '../support/spawn-service.js';

/**
 * Issue #17, defect 2: a first start on a taken port printed the one-time admin key, then died with a raw
 * EADDRINUSE stack trace (the key was lost with it). The port is checked before anything is created or printed.
 */
beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build', '--silent']);
}, 120_000);

describe('first start on a port that is taken', () => {
  let dir: string;
  let blocker: Server;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'port-in-use-'));
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => blocker.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits with one line saying what to do, before creating the admin key or the database', async () => {
    const dataDir = join(dir, 'data');
    const service = spawnService({ DATA_DIR: dataDir, AUTH: 'on', PORT: String(port), MODELS_DIR: resolve('models') });
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([service.exited, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('still running')), 60_000)))]).finally(() => {
      clearTimeout(timer);
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
    });
    const stderr = service.stderr();
    expect(exited.code).toBe(75);
    expect(stderr.trim().split('\n')).toEqual([
      `port 127.0.0.1:${port} is already in use (another process listens there): stop it, or start with PORT=<free port> (PORT=0 picks one)`,
    ]);
    expect(stderr).not.toMatch(/API key/i);
    expect(stderr).not.toContain('EADDRINUSE');
    // Nothing was created: the next start on a free port is still the first one and prints the key.
    expect(existsSync(dataDir) ? readdirSync(dataDir) : []).toEqual([]);
  }, 90_000);
});
