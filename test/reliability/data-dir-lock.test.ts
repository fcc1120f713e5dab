import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnService, type SpawnedService } from '../support/spawn-service.js';
import { runCli, type CliRun } from './run-cli.js';

/**
 * Issue #17, defect 1: PGlite is single-process. A CLI command on a data directory the service holds used to
 * print success and exit 0, and the service then answered 500 (`could not open file "base/5/…"`) until
 * restarted. Both directions are refused now, with a message that says who holds the directory.
 */
const MODELS_DIR = resolve('models');

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build', '--silent']);
}, 120_000);

async function getStatus(port: number, path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.arrayBuffer();
  return res.status;
}

describe('one owner per DATA_DIR (embedded mode)', () => {
  let dir: string;
  let service: SpawnedService | undefined;
  let holder: CliRun | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'data-dir-lock-'));
  });
  afterAll(async () => {
    if (holder && holder.child.exitCode === null) holder.child.kill('SIGKILL');
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a CLI command on the directory of a running service is refused, and the service keeps serving', async () => {
    service = spawnService({ DATA_DIR: dir, MODELS_DIR });
    const port = await service.port();
    const ingest = await fetch(`http://127.0.0.1:${port}/api/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'system_id,equipment_id,sensor_id,ts,v\nlock-rig,p1,PS1,2024-05-01T10:00:00Z,151\n',
    });
    expect(ingest.status).toBe(200);

    const cli = await runCli(['projections', 'rebuild', 'sensor_readings'], { DATA_DIR: dir, MODELS_DIR }).done;
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain(`DATA_DIR ${dir} is in use by the running service (pid ${service.child.pid}`);
    expect(cli.stderr).toContain('stop the service first');
    expect(cli.stderr).not.toMatch(/^\s+at /m);

    // The service was not disturbed: its read models still answer.
    expect(await getStatus(port, '/api/v1/systems/lock-rig/readings?sensor_id=PS1')).toBe(200);
    expect(await getStatus(port, '/api/v1/quarantine?system_id=lock-rig')).toBe(200);
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
    service = undefined;
    // A clean stop leaves no lock behind.
    expect(existsSync(join(dir, 'owner.lock'))).toBe(false);
  }, 120_000);

  it('the service does not start on a directory a CLI command holds; it starts once the command is done', async () => {
    // `events export` into a FIFO holds the runtime open until a reader opens the FIFO.
    const fifo = join(dir, 'export.fifo');
    execFileSync('mkfifo', [fifo]);
    const cli = (holder = runCli(['events', 'export', '--out', fifo], { DATA_DIR: dir, MODELS_DIR }));
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(dir, 'owner.lock'))) {
      if (Date.now() > deadline || cli.child.exitCode !== null) throw new Error(`the CLI did not take the directory: ${(await cli.done).stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const refused = spawnService({ DATA_DIR: dir, MODELS_DIR });
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([refused.exited, new Promise<{ code: null }>((r) => (timer = setTimeout(() => r({ code: null }), 60_000)))]);
    clearTimeout(timer);
    if (refused.child.exitCode === null) refused.child.kill('SIGKILL');
    expect(exited.code).toBe(75);
    expect(refused.stderr()).toContain(`DATA_DIR ${dir} is in use by a CLI command (pid ${cli.child.pid}`);
    expect(refused.stderr()).not.toMatch(/^\s+at /m);
    expect(refused.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on'))).toBe(false);

    // Let the export finish: the lock is released and the service starts.
    const reader = createReadStream(fifo);
    reader.resume();
    const finished = await cli.done;
    expect(finished.code).toBe(0);
    service = spawnService({ DATA_DIR: dir, MODELS_DIR });
    const port = await service.port();
    expect(await getStatus(port, '/health/live')).toBe(200);
  }, 120_000);

  it('a lock left by a killed process is stale and taken over', async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    expect(existsSync(join(dir, 'owner.lock'))).toBe(true);
    service = spawnService({ DATA_DIR: dir, MODELS_DIR });
    const port = await service.port();
    expect(await getStatus(port, '/health/live')).toBe(200);
  }, 120_000);
});
