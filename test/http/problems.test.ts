import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { problemTypes } from '../../src/http/problem.js';
import { createTestStorage, settle, startTestApp, type TestStorage } from '../support/test-app.js';
import { listen, type HttpResponse } from './http-test-client.js';

const row = (i: number) => ({ system_id: 'p-rig', equipment_id: 'e1', sensor_id: 'PS1', ts: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), v: i });

function expectProblem(res: HttpResponse, kind: keyof typeof problemTypes) {
  const t = problemTypes[kind];
  expect([res.status, res.headers.get('content-type')?.split(';')[0]]).toEqual([t.status, 'application/problem+json']);
  const body = res.json();
  expect(body).toMatchObject({ type: t.type, title: t.title, status: t.status, correlation_id: res.headers.get('x-correlation-id') });
  expect(res.text).not.toMatch(/\bat [^ ]+\.(js|ts):\d+|select |insert into/i);
  return body;
}

describe('problem+json for every error the HTTP layer produces', () => {
  let app: NestFastifyApplication;
  let http: (path: string, init?: RequestInit) => Promise<HttpResponse>;
  const post = (body: string, type = 'application/json') => http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': type }, body });

  beforeAll(async () => {
    app = await startTestApp({ DATA_DIR: 'memory://', INGEST_MAX_BODY_BYTES: '4096', INGEST_MAX_ROWS: '3' });
    http = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('404 for an unknown route', async () => {
    expect(expectProblem(await http('/api/v1/nope'), 'notFound').instance).toBe('/api/v1/nope');
  });

  it('405 with Allow for a known path and another method', async () => {
    const res = await http('/api/v1/ingest', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '[]' });
    expectProblem(res, 'methodNotAllowed');
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('413 for a body over INGEST_MAX_BODY_BYTES and for more rows than INGEST_MAX_ROWS', async () => {
    expectProblem(await post(JSON.stringify([{ ...row(0), meta: { pad: 'x'.repeat(5000) } }])), 'payloadTooLarge');
    const rows = expectProblem(await post(JSON.stringify([row(1), row(2), row(3), row(4)])), 'payloadTooLarge');
    expect(rows.errors).toEqual([{ field: 'rows', message: expect.stringContaining('at most 3') }]);
  });

  it('415 for an unsupported content type, naming the header', async () => {
    const body = expectProblem(await post('a=b', 'application/x-www-form-urlencoded'), 'unsupportedMediaType');
    expect(body.errors?.[0]?.field ?? 'Content-Type').toBe('Content-Type');
  });

  it('415 naming Content-Type on every route with a body, not a 400 about the parsed text', async () => {
    const detect = (type: string) => http('/api/v1/detect', { method: 'POST', headers: { 'content-type': type }, body: '{"values":{}}' });
    for (const type of ['text/plain', 'text/csv']) {
      const body = expectProblem(await detect(type), 'unsupportedMediaType');
      expect(body.errors).toEqual([{ field: 'Content-Type', message: `must be application/json, got ${type}` }]);
    }
    const analyze = await http('/api/v1/systems/p-rig/analyze', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(expectProblem(analyze, 'unsupportedMediaType').errors[0].field).toBe('Content-Type');
  });

  it('says what a field must be, never zod\'s raw text', async () => {
    const q = expectProblem(await http('/api/v1/quarantine?limit=abc'), 'validation');
    expect(q.errors).toEqual([{ field: 'limit', message: 'must be a number' }]);
    const low = expectProblem(await http('/api/v1/quarantine?limit=0'), 'validation');
    expect(low.errors).toEqual([{ field: 'limit', message: 'must be at least 1' }]);
    const detect = expectProblem(await http('/api/v1/detect', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"abc"' }), 'validation');
    expect(detect.errors).toEqual([{ field: 'body', message: 'must be an object' }]);
    const trend = expectProblem(await http('/api/v1/systems/p-rig/anomaly-trend?from=yesterday&bucket=1w'), 'validation');
    for (const e of trend.errors) expect(e.message).not.toMatch(/^(Invalid|Too (small|big))|expected .*received/);
  });

  it('one rule for an unknown system on every route under /api/v1/systems/{id}: 404 naming id (docs/errors.md)', async () => {
    const reads = ['readings', 'anomalies', 'anomaly-trend', 'health', 'events'];
    for (const route of reads) {
      const body = expectProblem(await http(`/api/v1/systems/nowhere-9/${route}`), 'notFound');
      expect([route, body.errors]).toEqual([route, [{ field: 'id', message: 'is not a known system (GET /api/v1/systems lists them)' }]]);
    }
    const analyze = await http('/api/v1/systems/nowhere-9/analyze', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '2024-01-01T00:00:00Z', to: '2024-01-01T01:00:00Z', mode: 'sync' }),
    });
    expect([analyze.status, analyze.json().errors?.[0]?.field]).toEqual([404, 'id']);
    // A system with an accepted reading is known: the same routes answer 200.
    expect((await post(JSON.stringify([{ ...row(1), system_id: 'known-9' }]))).status).toBe(200);
    await settle(app);
    for (const route of ['readings', 'anomalies', 'anomaly-trend', 'events']) expect([route, (await http(`/api/v1/systems/known-9/${route}`)).status]).toEqual([route, 200]);
  });

  it('400 for malformed JSON and for a body that is not a batch, naming the field', async () => {
    expect(expectProblem(await post('{"readings": ['), 'malformedBody').errors).toEqual([{ field: 'body', message: expect.any(String) }]);
    expect(expectProblem(await post('{"rows": []}'), 'malformedBody').errors).toEqual([{ field: 'body', message: expect.stringContaining('JSON array') }]);
    expect(expectProblem(await post('[]'), 'malformedBody').errors).toEqual([{ field: 'readings', message: 'contains no readings' }]);
  });

  it('400 validation problems list every invalid query field', async () => {
    const body = expectProblem(await http('/api/v1/quarantine?limit=0&batch_id=x&bogus=1'), 'validation');
    expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['batch_id', 'bogus', 'limit']);
  });

  it('422 when an Idempotency-Key is reused with another body', async () => {
    const send = (v: number) => http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' }, body: JSON.stringify([{ ...row(9), v }]) });
    expect((await send(1)).status).toBe(200);
    expectProblem(await send(2), 'idempotencyConflict');
  });
});

// PostgreSQL only: PGlite runs its queries synchronously inside the event loop, so no timer can fire
// before the handler has finished (the work itself is then just slow, never cut off).
describe('request timeout (postgres)', () => {
  let app: NestFastifyApplication;
  let storage: TestStorage;
  let http: (path: string, init?: RequestInit) => Promise<HttpResponse>;

  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    app = await startTestApp({ ...storage.env, REQUEST_TIMEOUT_MS: '100' });
    http = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
  });

  it('answers 503 problem+json when a handler runs past REQUEST_TIMEOUT_MS, and the work still lands once', async () => {
    // 30,000 rows take well over 100 ms to validate and append.
    const csv = ['system_id,equipment_id,sensor_id,ts,v', ...Array.from({ length: 30_000 }, (_, i) => `t-rig,e1,S${i % 5},${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${i}`)].join('\n');
    const res = await http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'text/csv', 'idempotency-key': 'slow-1' }, body: csv });
    expectProblem(res, 'timeout');
    // A retry with the same key after the work finished returns the stored result instead of appending again.
    let retry: HttpResponse | undefined;
    for (let i = 0; i < 100; i++) {
      retry = await http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'text/csv', 'idempotency-key': 'slow-1' }, body: csv });
      if (retry.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(retry!.status).toBe(200);
    expect(retry!.headers.get('idempotent-replayed')).toBe('true');
    expect(retry!.json().accepted).toBe(30_000);
  });
});
