/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../../src/database/database.js';
import type { RouteTable } from '../../src/http/route-table.js';
import { DATABASE } from '../../src/infrastructure/tokens.js';
import { countSensorValues } from '../support/sensor-values.js';
import { settle } from '../support/test-app.js';
import { EVENT_LOG_BACKENDS } from '../support/test-databases.js';
import { isProblem, KEYS, LIVE_BOUND_MS, rawRequest, RSS_BOUND_MB, startHostileService, startProber, stopRawClient, waitReady, type HostileService, type ProbeReport } from './hostile-service.js';

/**
 * Property: whatever a local attacker sends — hostile methods, paths, query strings, headers and bodies (up to
 * the limits, deep, NUL and lone surrogates, huge numbers and cursors, prototype keys, slow) — the service
 * answers every request without a 5xx, every error is problem+json, /health/live answers within 1 s
 * throughout, RSS stays under its bound, every ingested row is accepted or quarantined, and no key is logged.
 */
const MAX_BODY = 64 * 1024;
const INGEST_MAX = 1024 * 1024;
const RUNS = Number(process.env.HOSTILE_RUNS ?? 80);

const hostileText = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '__proto__', 'constructor', 'prototype', 'toString', "'; drop table events;--", '../../etc/passwd', '%00', '%ED%A0%80', '%', '%zz', '1e309', '-0', 'NaN', '9'.repeat(40), ''),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
/** Every byte %-encoded (encodeURIComponent refuses lone surrogates; these become U+FFFD's bytes). */
const encode = (t: string) => [...Buffer.from(t)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const segment = fc.oneof(
  fc.constantFrom('rig-1', 'L' + 'x'.repeat(127), 'y'.repeat(300), '%00', '%ED%A0%80', '..', '.', '__proto__', 'constructor', '%2e%2e%2f', '%E2%80%AE', 'a%20b', '%FF'),
  hostileText.map(encode),
);
const queryValue = fc.oneof(
  hostileText.map(encode),
  fc.constantFrom('99999999999999999999', '1e309', '-1', '0', '1.5', Buffer.from(`${2 ** 60}:${2 ** 60}`).toString('base64url'), Buffer.from('1:1').toString('base64url'), '%00', 'x'.repeat(5000)),
);
const queryKey = fc.constantFrom('limit', 'after', 'cursor', 'from', 'to', 'sensor_id', 'equipment_id', 'system_id', 'model_version', 'bucket', 'type', '__proto__', 'constructor[prototype][x]', 'a[]', 'api_key', '%00');
const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

let counter = 0;
function row(): Record<string, unknown> {
  counter++;
  return { system_id: `pb-${counter % 3}`, equipment_id: 'eq', sensor_id: `S${counter % 4}`, ts: new Date(Date.UTC(2022, 0, 1) + counter * 1000).toISOString(), v: counter };
}
/** JSON text of a hostile value (as text: JSON.stringify itself overflows the stack on the deepest ones). */
const hostileJson = fc.oneof(
  hostileText.map((t) => JSON.stringify(t)),
  fc.constantFrom('1e308', '-1e308', '9007199254740993', '1e999', '-0', 'null', 'true', '[]', '{}', '"\\ud800"', '"a\\u0000b"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"y":1}}}'),
  fc.integer({ min: 10, max: 20_000 }).map((d) => `${'[{"a":'.repeat(d)}1${'}]'.repeat(d)}`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
);
const FIELDS = ['system_id', 'equipment_id', 'sensor_id', 'ts', 'v', 'unit', 'meta', '__proto__', 'constructor'] as const;
const ingestRows = fc.array(
  fc.record({ field: fc.option(fc.constantFrom(...FIELDS), { nil: undefined }), value: hostileJson, big: fc.option(fc.integer({ min: 1, max: 200_000 }), { freq: 8, nil: undefined }) }),
  { minLength: 1, maxLength: 30 },
);
/** One row per entry, with at most one hostile field; `ts` only ever becomes invalid, so accepted rows keep unique keys. */
function ingestBody(rows: { field?: string; value: string; big?: number }[]): string {
  const parts = rows.map(({ field, value, big }) => {
    const r = row();
    if (!field) return JSON.stringify(r);
    delete r[field];
    const text =
      field === 'ts' ? (value.startsWith('"') ? `"not-a-date-${value.slice(1)}` : value) : field === 'meta' && big ? JSON.stringify({ blob: 'm'.repeat(big) }) : value;
    return `${JSON.stringify(r).slice(0, -1)},${JSON.stringify(field)}:${text}}`;
  });
  return `[${parts.join(',')}]`;
}

/** Rows of a body the generator did not build as a batch (a JSON array, or {"readings": [...]}, can be one). */
function rowsIn(text: string): number {
  const v = JSON.parse(text) as unknown;
  return Array.isArray(v) ? v.length : ((v as { readings?: unknown[] }).readings?.length ?? 0);
}

const header = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'text/csv', 'application/json; charset=utf-16', 'text/plain', 'multipart/form-data; boundary=x', '', 'application/json\u0000'),
    'x-correlation-id': fc.constantFrom('ok-1', '\u0000', 'x'.repeat(500), '../../', '{"a":1}'),
    'idempotency-key': fc.constantFrom('k-1', '', ' ', 'x'.repeat(300), '__proto__'),
    'transfer-encoding': fc.constantFrom('chunked', 'gzip, chunked', 'identity'),
    'content-encoding': fc.constantFrom('gzip', 'br', 'deflate'),
    accept: fc.constantFrom('*/*', 'application/problem+json', 'text/html'),
  },
  { requiredKeys: [] },
);
const auth = fc.constantFrom<Record<string, string>>({ authorization: `Bearer ${KEYS.admin}` }, { authorization: `Bearer ${KEYS.admin}` }, { 'x-api-key': KEYS.reader }, {}, { authorization: 'Bearer nope' }, { authorization: `Basic ${KEYS.admin}` });
const body = fc.oneof(
  { weight: 3, arbitrary: ingestRows.map((rows) => ({ text: ingestBody(rows), rows: rows.length })) },
  { weight: 1, arbitrary: hostileJson.map((text) => ({ text, rows: -1 })) },
  { weight: 1, arbitrary: fc.constantFrom('{', '[' + '['.repeat(50_000), '{"samples":' + '['.repeat(10_000), '"\\ud800"', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"p":1}}}', '\u0000\u0001', '1e999999', '').map((text) => ({ text, rows: -1 })) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY - 100, max: MAX_BODY + 100 }).map((n) => ({ text: JSON.stringify({ values: { PS1: 1 }, pad: 'p'.repeat(n) }), rows: -1 })) },
);
const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'),
  route: fc.nat(),
  segment,
  query,
  headers: header,
  auth,
  body,
  slow: fc.option(fc.constantFrom(200, 700), { freq: 15, nil: undefined }),
  extraPath: fc.option(fc.constantFrom('/x', '/..', '//', '/%00', '?', '#frag'), { freq: 6, nil: undefined }),
});

describe.each(EVENT_LOG_BACKENDS)('property: hostile requests never break the service (%s)', (backend) => {
  let svc: HostileService;
  let prober: { stop(): Promise<ProbeReport> };
  let routes: string[];
  let accepted = 0;
  let quarantined = 0;
  let rowsSent = 0;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    svc = await startHostileService(backend, { MAX_BODY_BYTES: String(MAX_BODY), INGEST_MAX_BODY_BYTES: String(INGEST_MAX), REQUEST_TIMEOUT_MS: '30000' });
    routes = [...new Set((svc.app.getHttpAdapter().getInstance() as unknown as { routeTable: RouteTable }).routeTable.list().map((r) => r.url))];
    await waitReady(svc);
    prober = startProber(svc.port);
  }, 240_000);
  afterAll(async () => {
    await svc?.close();
    await stopRawClient();
  });

  it('answers every generated request with 2xx/3xx or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const template = routes[r.route % routes.length]!;
        const path = template.replace(/:\w+/g, r.segment).replace('*', r.segment) + (r.extraPath ?? '') + r.query;
        const target = path.replace(/[\s\u0000-\u001f\u007f-\uffff]/g, (c) => encode(c));
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries({ ...r.headers, ...r.auth })) headers[k] = Buffer.from(v, 'utf8').toString('latin1').replace(/[\r\n\u0000]/g, '');
        delete headers['transfer-encoding'];
        const bytes = r.method === 'GET' || r.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(r.body.text);
        const res = await rawRequest(svc.port, {
          method: r.method,
          target,
          headers,
          body: bytes,
          ...(r.slow ? { chunkBytes: Math.ceil(bytes.length / 4) || 1, everyMs: r.slow } : {}),
          timeoutMs: 20_000,
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const summary = { method: r.method, target: target.slice(0, 200), status: res.status, body: res.body.slice(0, 300) };
        expect(summary).toMatchObject({ status: expect.any(Number) });
        // a body the service refused from the headers: it closed without reading it, and the reset lost its answer
        if (res.status === 0 && res.closedEarly && bytes.length > 0) return;
        if (res.status === 0 || res.status >= 500) throw new Error(`no answer or a 5xx: ${JSON.stringify(summary)}`);
        if (res.status >= 400 && r.method !== 'HEAD' && !isProblem(res.status, res.headers['content-type'], res.body)) throw new Error(`not problem+json: ${JSON.stringify(summary)}`);
        if (res.status === 200 && template === '/api/v1/ingest' && r.method === 'POST') {
          const result = JSON.parse(res.body) as { accepted: number; quarantined: number };
          const sent = r.body.rows >= 0 ? r.body.rows : rowsIn(r.body.text);
          expect(result.accepted + result.quarantined).toBe(sent);
          accepted += result.accepted;
          quarantined += result.quarantined;
          rowsSent += sent;
        }
      }),
      { numRuns: RUNS, seed: 20 },
    );
  }, 600_000);

  it('answers ingest batches of hostile rows: accepted + quarantined = rows sent, kept in the read models', async () => {
    await fc.assert(
      fc.asyncProperty(ingestRows, async (rows) => {
        const text = ingestBody(rows);
        const res = await svc.http('/api/v1/ingest', { method: 'POST', headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' }, body: text });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status < 500 && (res.status < 400 || isProblem(res.status, res.headers.get('content-type'), res.text))).toBe(true);
        if (res.status !== 200) return;
        const sent = rows.length;
        const result = res.json();
        expect(result.accepted + result.quarantined).toBe(sent);
        accepted += result.accepted;
        quarantined += result.quarantined;
        rowsSent += sent;
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: 21 },
    );
    await settle(svc.app);
    const db = svc.app.get<Database>(DATABASE).db;
    expect(await countSensorValues(db)).toBe(accepted);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from quarantined_rows`.execute(db);
    expect(rows[0]!.n).toBe(quarantined);
    expect(accepted + quarantined).toBe(rowsSent);
  }, 600_000);

  it('kept /health/live within 1 s and RSS bounded throughout, and logged no key', async () => {
    const report = await prober.stop();
    console.log(`hostile property (${backend}): ${RUNS} requests + ${Math.ceil(RUNS / 2)} batches; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; rows ${rowsSent} = accepted ${accepted} + quarantined ${quarantined}; prober ${JSON.stringify(report)}`);
    expect(report.failures).toBe(0);
    expect(report.maxExcessMs).toBeLessThan(LIVE_BOUND_MS);
    expect(report.maxRssMb).toBeLessThan(RSS_BOUND_MB);
    const text = svc.logs.text();
    expect({ admin: text.includes(KEYS.admin), reader: text.includes(KEYS.reader) }).toEqual({ admin: false, reader: false });
  });
});
