import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/load-config.js';
import { createDatabase } from '../../src/database/create-database.js';
import { createEventStore } from '../../src/event-store/create-event-store.js';
import { comparePositions } from '../../src/event-store/event-store.js';
import { readCheckpoint } from '../../src/projections/projection-runner.js';
import { createTestStorage, type TestStorage } from '../support/test-app.js';
import { EVENT_LOG_BACKENDS } from '../support/test-databases.js';
import { countSensorValues } from '../support/sensor-values.js';
import { spawnService } from '../support/spawn-service.js';

const SHUTDOWN_TIMEOUT_MS = 20_000;
const ROWS = 15_000;

function startService(env: Record<string, string>) {
  return spawnService({ SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), ...env });
}

function post(port: number, path: string, body: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  // The test runs what `npm start` runs: the swc build.
  await promisify(execFile)('npm', ['run', 'build', '--silent']);
}, 120_000);

describe.each(EVENT_LOG_BACKENDS)('graceful shutdown of the built service (%s)', (backend) => {
  let storage: TestStorage;
  let service: ReturnType<typeof startService> | undefined;

  beforeAll(async () => {
    storage = await createTestStorage(backend);
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await storage?.dispose();
  });

  it('on SIGTERM finishes the in-flight ingest, commits checkpoints and exits 0 within the deadline', async () => {
    service = startService(storage.env);
    const listening = await service.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on'));
    const port = listening.port as number;

    const csv = ['system_id,equipment_id,sensor_id,ts,v'];
    for (let i = 0; i < ROWS; i++) csv.push(`shut-rig,pump-${i % 4},S${i % 10},${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${i}`);
    const correlation = 'shutdown-inflight-1';
    const response = post(port, '/api/v1/ingest', csv.join('\n'), { 'content-type': 'text/csv', 'x-correlation-id': correlation });
    // The request is in flight once the server has logged it; SIGTERM then.
    await service.waitForLog((l) => l.correlation_id === correlation && l.msg === 'incoming request');
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');

    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ accepted: ROWS, quarantined: 0 });
    const { code, at } = await service.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const messages = service.lines.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['shutting down: no new requests; finishing in-flight work', 'shutdown complete']));

    // Checkpoints are committed and consistent: every reading up to the checkpoint is in the read model, none beyond.
    const config = loadConfig({ DATA_DIR: storage.env.DATA_DIR ?? './data', ...storage.env });
    const database = await createDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
    try {
      const store = await createEventStore(config, database);
      const checkpoint = await readCheckpoint(database.db, 'sensor_readings');
      expect(checkpoint).toBeDefined();
      const keys = new Set<string>();
      for (const e of await store.readAll())
        if (e.type === 'ReadingsIngested' && comparePositions(e.position, checkpoint!) <= 0) {
          const d = e.data as { systemId: string; equipmentId: string; samples: { ts: string; values: Record<string, number> }[] };
          for (const s of d.samples) for (const sensor of Object.keys(s.values)) keys.add(`${d.systemId}/${d.equipmentId}/${sensor}/${s.ts}`);
        }
      expect(await countSensorValues(database.db)).toBe(keys.size);
    } finally {
      await database.close();
    }
  }, 240_000);
});

describe('start-up configuration checks of the built service', () => {
  it('refuses server mode without API keys or AUTH=off: exit 78 with a message naming API_KEYS', async () => {
    const service = startService({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/none', AUTH: '' });
    const { code } = await service.exited;
    expect(code).toBe(78);
    expect(service.lines.find((l) => l.level === 'fatal')?.msg).toMatch(/API_KEYS is not set/);
  });

  it('reads settings from a .env file (ENV_FILE), with the environment taking precedence', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/envfile-`);
    try {
      await writeFile(`${dir}/.env`, 'AUTH=on\nAPI_KEYS=broken-entry\nLOG_LEVEL=debug\n');
      // API_KEYS from the file is malformed: the service must fail on it (proof the file was read)...
      const fromFile = startService({ ENV_FILE: `${dir}/.env`, DATA_DIR: `${dir}/data`, AUTH: '' });
      expect((await fromFile.exited).code).toBe(78);
      expect(fromFile.lines.find((l) => l.level === 'fatal')?.msg).toMatch(/API_KEYS entry 1/);
      // ...unless the environment sets it: AUTH=off from the environment wins over AUTH=on in the file.
      const fromEnv = startService({ ENV_FILE: `${dir}/.env`, DATA_DIR: `${dir}/data2`, AUTH: 'off' });
      await fromEnv.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on'));
      fromEnv.child.kill('SIGTERM');
      expect((await fromEnv.exited).code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
