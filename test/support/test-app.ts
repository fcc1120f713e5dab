import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sql } from 'kysely';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import type { Database } from '../../src/database/database.js';
import { DATABASE, EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { contractFetch } from '../contract/contract-gate.js';
import { prepareDataDir } from './pglite-template.js';
import { createPostgresDatabase, type TestBackend } from './test-databases.js';

/** Where a test app keeps its data: a fresh PGlite directory or a fresh database on the PostgreSQL or TimescaleDB server. */
export interface TestStorage {
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export async function createTestStorage(backend: TestBackend): Promise<TestStorage> {
  if (backend === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'anomaly-test-'));
    await prepareDataDir(dir);
    return { env: { DATA_DIR: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const { url, drop } = await createPostgresDatabase(backend);
  return { env: { DATABASE_URL: url }, dispose: drop };
}

export async function startTestApp(env: Record<string, string>): Promise<NestFastifyApplication> {
  const config = loadConfig({ LOG_LEVEL: 'silent', AUTH: 'off', ...env });
  const app = await createApp(config);
  // A real socket on loopback: light-my-request's inject cannot load under jest's ESM mode.
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

/** Waits until every projection has processed everything in the log (read-your-writes for assertions). */
export async function settle(app: NestFastifyApplication, timeoutMs = 120_000): Promise<void> {
  const store = app.get<EventStore>(EVENT_STORE);
  const database = app.get<Database>(DATABASE);
  // Wait until every committed event is readable: on a busy shared PostgreSQL server the snapshot rule hides
  // new events until older transactions (in any database of the cluster) have ended.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql<{ hidden: number }>`
      select count(*)::int as hidden from events where transaction_id >= pg_snapshot_xmin(pg_current_snapshot())`.execute(database.db);
    if (rows[0]!.hidden === 0) break;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.hidden} committed events stayed invisible for ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const head = await store.headPosition();
  if (head) await app.get(ProjectionRunner).waitFor(head, timeoutMs);
}

export interface TestRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  payload?: string;
}

export interface TestResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json<T = any>(): T;
}

/**
 * Sends one HTTP request to the test app over loopback, through the app's contract gate (Prism in front of it on
 * the PGlite run: test/contract/contract-gate.ts), so an answer that breaks openapi.json fails the test.
 */
export async function inject(app: NestFastifyApplication, request: TestRequest): Promise<TestResponse> {
  const res = await contractFetch(app, request.url, { method: request.method ?? 'GET', headers: request.headers, body: request.payload });
  const body = res.text;
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    body,
    json: () => JSON.parse(body),
  };
}
