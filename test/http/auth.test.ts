import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, ConfigError } from '../../src/config/load-config.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { findApiKey, parseApiKeys, sha256Hex } from '../../src/http/auth/api-keys.js';
import { resolveKeyring } from '../../src/http/auth/keyring.js';
import { EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { createLogger } from '../../src/observability/logger.js';
import { captureLogs } from './log-capture.js';
import { listen, type HttpResponse } from './http-test-client.js';

const KEYS = { ingester: 'k-ingest-0123456789abcdef', reader: 'k-read-0123456789abcdef', root: 'k-admin-0123456789abcdef' };
const API_KEYS = `ingester:ingest:${sha256Hex(KEYS.ingester)},reader:read|detect:${sha256Hex(KEYS.reader)},root:admin:${sha256Hex(KEYS.root)}`;
const silent = createLogger('silent');

const reading = (sensor: string) => [{ system_id: 'auth-rig', equipment_id: 'e1', sensor_id: sensor, ts: '2024-05-01T10:00:00Z', v: 1 }];
const ingest = (headers: Record<string, string>, sensor = 'S1') => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(reading(sensor)),
});

function expectProblem(res: HttpResponse, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ type, status });
}

describe('API keys and scopes', () => {
  let app: NestFastifyApplication;
  let http: (path: string, init?: RequestInit) => Promise<HttpResponse>;
  const logs = captureLogs('info');

  beforeAll(async () => {
    const config = loadConfig({ DATA_DIR: 'memory://', AUTH: 'on', API_KEYS, RATE_LIMIT_INGEST_PER_MINUTE: '4' });
    app = await createApp(config, logs.logger);
    http = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 problem+json without a key or with an unknown key', async () => {
    const none = await http('/api/v1/ingest', ingest({}));
    expectProblem(none, 401, '/problems/unauthorized');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.json().errors).toEqual([{ field: 'Authorization', message: 'is missing' }]);
    expectProblem(await http('/api/v1/ingest', ingest({ authorization: 'Bearer not-a-key' })), 401, '/problems/unauthorized');
    expectProblem(await http('/api/v1/quarantine', { headers: { 'x-api-key': 'nope' } }), 401, '/problems/unauthorized');
  });

  it('answers 403 when the key lacks the route scope', async () => {
    const res = await http('/api/v1/ingest', ingest({ authorization: `Bearer ${KEYS.reader}` }));
    expectProblem(res, 403, '/problems/forbidden');
    expect(res.json().required_scope).toBe('ingest');
    // A route without @RequireScope needs `read` for GET: an ingest-only key is refused there too.
    expectProblem(await http('/api/v1/quarantine', { headers: { authorization: `Bearer ${KEYS.ingester}` } }), 403, '/problems/forbidden');
  });

  it('accepts the right scope (Bearer or X-API-Key) and records the key id as the actor', async () => {
    const bearer = await http('/api/v1/ingest', ingest({ authorization: `Bearer ${KEYS.ingester}`, 'x-correlation-id': 'auth-actor-1' }, 'S2'));
    expect(bearer.status).toBe(200);
    expect(bearer.json()).toMatchObject({ accepted: 1 });
    const header = await http('/api/v1/ingest', ingest({ 'x-api-key': KEYS.root }, 'S3'));
    expect(header.status).toBe(200);
    expect((await http('/api/v1/quarantine', { headers: { 'x-api-key': KEYS.reader } })).status).toBe(200);

    const events = await app.get<EventStore>(EVENT_STORE).readAll();
    const mine = events.filter((e) => e.metadata.correlationId === 'auth-actor-1');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.metadata.actor === 'ingester')).toBe(true);
    expect(events.some((e) => e.metadata.actor === 'root')).toBe(true);
  });

  it('keeps health, metrics, the API document and the docs open', async () => {
    for (const path of ['/health/live', '/metrics', '/openapi.json', '/docs']) expect([path, (await http(path)).status]).toEqual([path, 200]);
  });

  it('rate-limits ingest per key with 429 problem+json and Retry-After; other keys are not affected', async () => {
    const statuses: number[] = [];
    let last: HttpResponse | undefined;
    for (let i = 0; i < 6; i++) {
      last = await http('/api/v1/ingest', ingest({ 'x-api-key': KEYS.ingester }, `R${i}`));
      statuses.push(last.status);
    }
    // The ingester already used 1 request of its 4 in this minute.
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    expectProblem(last!, 429, '/problems/rate-limited');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await http('/api/v1/ingest', ingest({ 'x-api-key': KEYS.root }, 'R9'))).status).toBe(200);
  });

  it('never writes a key to the log, only key ids', () => {
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
    expect(text).toContain('"ingester"');
  });
});

describe('key configuration', () => {
  it('parses API_KEYS and compares hashes', () => {
    const keys = parseApiKeys(API_KEYS);
    expect(keys.map((k) => [k.id, k.scopes])).toEqual([
      ['ingester', ['ingest']],
      ['reader', ['read', 'detect']],
      ['root', ['admin']],
    ]);
    expect(findApiKey(keys, KEYS.reader)?.id).toBe('reader');
    expect(findApiKey(keys, `${KEYS.reader}x`)).toBeUndefined();
    expect(() => parseApiKeys(`a:ingest:${KEYS.root}`)).toThrow(/SHA-256/);
    expect(() => parseApiKeys(`a:fly:${sha256Hex('x')}`)).toThrow(/scope/);
    expect(() => parseApiKeys(`a:read:${sha256Hex('x')},a:read:${sha256Hex('y')}`)).toThrow(/twice/);
  });

  it('refuses server mode without API_KEYS or AUTH=off', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/none' });
    expect(() => resolveKeyring(config, silent)).toThrow(ConfigError);
    expect(resolveKeyring(loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/none', AUTH: 'off' }), silent)).toBeUndefined();
  });

  it('warns at every start when AUTH=off', () => {
    const logs = captureLogs('info');
    resolveKeyring(loadConfig({ AUTH: 'off' }), logs.logger);
    expect(logs.lines()).toEqual([expect.objectContaining({ level: 'warn', auth: 'off' })]);
  });

  it('creates an admin key on the first embedded start, keeps only its hash, prints it once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auth-bootstrap-'));
    try {
      const printed: string[] = [];
      const config = loadConfig({ DATA_DIR: dir });
      const keys = resolveKeyring(config, silent, (l) => printed.push(l))!;
      const key = /API key: (\S+)/.exec(printed.join('\n'))?.[1];
      expect(key).toBeDefined();
      expect(findApiKey(keys, key!)?.scopes).toEqual(['admin']);
      const stored = await readFile(join(dir, 'api-keys'), 'utf8');
      expect(stored).toBe(`admin:admin:${sha256Hex(key!)}\n`);
      expect(stored).not.toContain(key!);
      const again: string[] = [];
      const reloaded = resolveKeyring(config, silent, (l) => again.push(l))!;
      expect(again).toEqual([]);
      expect(findApiKey(reloaded, key!)?.id).toBe('admin');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
