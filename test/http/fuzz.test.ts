/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../../src/database/database.js';
import { DATABASE } from '../../src/infrastructure/tokens.js';
import type { RouteTable } from '../../src/http/route-table.js';
import { createTestStorage, settle, startTestApp, type TestStorage } from '../support/test-app.js';
import { EVENT_LOG_BACKENDS } from '../support/test-databases.js';
import { listen, type HttpResponse } from './http-test-client.js';
import { cycleSamples, SENSORS } from './hydraulic-cycles.js';
import { countSensorValues } from '../support/sensor-values.js';

/** Strings an attacker or a broken client sends: injection, control characters, traversal, huge. */
const hostileStrings = fc.oneof(
  fc.constantFrom(
    "'; DROP TABLE events; --",
    "1' OR '1'='1",
    '<script>alert(1)</script>',
    '${jndi:ldap://x/a}',
    '../../../../etc/passwd',
    '\u0000',
    'nul\u0000byte',
    '\ud800',
    'NaN',
    '-Infinity',
    '1e309',
    '__proto__',
    'constructor',
    '%00%27',
    '\r\nX-Injected: 1',
    '=cmd|" /C calc"!A0',
    '',
    ' ',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const hugeString = fc.constantFrom('x'.repeat(1_100_000), '\u00e9'.repeat(300_000));
const hostileNumbers = fc.constantFrom(1e308, -1e308, 5e-324, -0, Number.MAX_SAFE_INTEGER + 2, 1e21);
const wrongTypes = fc.oneof(fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));
function deep(depth: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}
const deepValue = fc.integer({ min: 10, max: 2_000 }).map((d) => deep(d));
const hostileValue = fc.oneof(hostileStrings, hostileNumbers, wrongTypes, deepValue, fc.jsonValue({ maxDepth: 4 }));

const FIELDS = ['system_id', 'equipment_id', 'sensor_id', 'ts', 'v', 'unit', 'meta', 'extra'] as const;
/** Every value of `ts` used as a hostile value is invalid, so accepted rows keep unique keys (see below). */
const hostileTs = fc.oneof(hostileStrings.filter((s) => Number.isNaN(Date.parse(s)) || !/Z|[+-]\d\d:\d\d$/.test(s)), wrongTypes, fc.constantFrom('2024-02-30T00:00:00Z', '9999-01-01T00:00:00Z', '2024-01-01T00:00:00'));

let counter = 0;
/** A row whose key (system, equipment, sensor, ts) is unique: ts comes from a global counter. */
function baseRow(system: number) {
  counter++;
  return {
    system_id: `fz-${system}`,
    equipment_id: 'eq-1',
    sensor_id: `S${counter % 7}`,
    ts: new Date(Date.UTC(2023, 0, 1) + counter * 1000).toISOString(),
    v: counter / 3,
  } as Record<string, unknown>;
}
/** At most one hostile field per row: a hostile ts is always invalid, so no two accepted rows share a key. */
const row = fc.record({
  system: fc.integer({ min: 1, max: 3 }),
  field: fc.option(fc.constantFrom(...FIELDS), { nil: undefined }),
  value: hostileValue,
  ts: hostileTs,
  huge: fc.option(hugeString, { freq: 25, nil: undefined }),
});
const jsonBatch = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.array(row, { minLength: 1, maxLength: 25 }), fc.boolean()) },
  { weight: 1, arbitrary: fc.tuple(fc.constant([]), fc.boolean()) },
);
const hostileBody = fc.oneof(fc.jsonValue({ maxDepth: 6 }), deepValue, fc.constantFrom('{"readings": 5}', '[1,2,3]', '{"readings":[{"a":1}]}'));

function materialize(r: { system: number; field?: (typeof FIELDS)[number]; value: unknown; ts: unknown; huge?: string }): Record<string, unknown> {
  const base = baseRow(r.system);
  if (r.field === 'ts') base.ts = r.ts;
  else if (r.field) base[r.field] = r.field === 'meta' && r.huge ? { blob: r.huge } : r.field === 'unit' && r.huge ? r.huge : r.value;
  return base;
}

const csvCell = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function isProblem(res: HttpResponse): boolean {
  if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) return false;
  const body = res.json();
  return typeof body.type === 'string' && body.status === res.status && typeof body.title === 'string' && !/at .*\.(ts|js):\d+|select |insert into/i.test(res.text);
}

describe.each(EVENT_LOG_BACKENDS)('fuzzing ingest and detect with hostile JSON and CSV (%s)', (backend) => {
  let storage: TestStorage;
  let app: NestFastifyApplication;
  let http: (path: string, init?: RequestInit) => Promise<HttpResponse>;
  let acceptedTotal = 0;
  let quarantinedTotal = 0;
  const statuses = new Map<number, number>();

  const send = async (path: string, contentType: string, body: string) => {
    const res = await http(path, { method: 'POST', headers: { 'content-type': contentType }, body });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const ok = res.status >= 200 && res.status < 300;
    // Every answer is a success or a client error in problem+json; never a 5xx, never a leaked stack or SQL.
    if (!ok) expect({ status: res.status, problem: isProblem(res), body: res.text.slice(0, 500) }).toMatchObject({ status: expect.any(Number), problem: true });
    expect(res.status).toBeLessThan(500);
    if (ok && path === '/api/v1/ingest') {
      const result = res.json();
      expect(result.accepted + result.quarantined).toBeGreaterThan(0);
      acceptedTotal += result.accepted;
      quarantinedTotal += result.quarantined;
    }
    return res;
  };

  beforeAll(async () => {
    storage = await createTestStorage(backend);
    app = await startTestApp({ ...storage.env, RATE_LIMIT_INGEST_PER_MINUTE: '100000' });
    http = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await storage?.dispose();
  });

  it('answers JSON batches with hostile rows with 2xx or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(jsonBatch, async ([rows, wrapped]) => {
        const readings = rows.map(materialize);
        await send('/api/v1/ingest', 'application/json', JSON.stringify(wrapped ? { readings } : readings));
      }),
      { numRuns: 25, seed: 7 },
    );
  }, 180_000);

  it('answers hostile whole JSON bodies and broken JSON text with a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        await send('/api/v1/ingest', 'application/json', JSON.stringify(body));
      }),
      { numRuns: 30, seed: 11 },
    );
    for (const text of ['{', '[{"v":1e999999}]', '\u0000', '{"a":' + '['.repeat(100_000), 'null', '"str"', '[' + '1,'.repeat(10) + ']'])
      await send('/api/v1/ingest', 'application/json', text);
  });

  it('answers CSV with hostile cells, quotes, wrong column counts and binary with 2xx or a 4xx problem', async () => {
    const header = fc.constantFrom('system_id,equipment_id,sensor_id,ts,v', 'system_id,equipment_id,sensor_id,ts,v,unit,meta', 'v,ts,sensor_id,equipment_id,system_id', 'a,b', '');
    await fc.assert(
      fc.asyncProperty(header, fc.array(row, { minLength: 1, maxLength: 20 }), fc.boolean(), async (head, rows, ragged) => {
        const cols = head.split(',');
        const lines = rows.map((r) => {
          const m = materialize(r);
          const cells = cols.map((c) => csvCell(m[c] ?? ''));
          return (ragged && r.system === 2 ? cells.slice(0, 2) : cells).join(',');
        });
        await send('/api/v1/ingest', 'text/csv', [head, ...lines].join(r0(rows.length)));
      }),
      { numRuns: 20, seed: 13 },
    );
    await send('/api/v1/ingest', 'text/csv', '"unterminated,quote\nrig,a,b,2024-01-01T00:00:00Z,1');
    await send('/api/v1/ingest', 'text/csv', '\u0000\u0001\u0002');
  });

  it('answers detect (when present) with 2xx or a 4xx problem', async () => {
    const table = (app.getHttpAdapter().getInstance() as unknown as { routeTable: RouteTable }).routeTable;
    if (!table.allowedMethods('/api/v1/detect').includes('POST')) return void console.warn('POST /api/v1/detect is not registered yet: detect not fuzzed');
    // A real duty cycle with one hostile mutation: a value, a timestamp, a missing sensor, an extra field.
    const cycle = cycleSamples(5, Date.UTC(2024, 0, 1));
    const mutated = fc
      .record({
        sample: fc.integer({ min: 0, max: 59 }),
        sensor: fc.constantFrom(...SENSORS, 'XX1', '__proto__'),
        kind: fc.constantFrom('value', 'ts', 'drop', 'extra', 'single', 'none'),
        value: hostileValue,
      })
      .map(({ sample, sensor, kind, value }) => {
        const samples = cycle.map((s) => ({ ts: s.ts as unknown, values: { ...s.values } as Record<string, unknown> }));
        const target = samples[sample]!;
        if (kind === 'value') target.values[sensor] = value;
        if (kind === 'ts') target.ts = value;
        if (kind === 'drop') delete target.values[sensor];
        if (kind === 'single') return { system_id: 'fz-d', values: { ...target.values, [sensor]: value } };
        return { system_id: 'fz-d', equipment_id: 'e', samples, ...(kind === 'extra' ? { [sensor]: value } : {}) };
      });
    let ok = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: hostileBody }), async (body) => {
        const res = await send('/api/v1/detect', 'application/json', JSON.stringify(body));
        if (res.status === 200) ok++;
      }),
      { numRuns: 30, seed: 17 },
    );
    expect(ok).toBeGreaterThan(0);
  });

  it('stays up and loses nothing it accepted', async () => {
    expect((await http('/health/live')).status).toBe(200);
    expect(acceptedTotal).toBeGreaterThan(0);
    await settle(app);
    const database = app.get<Database>(DATABASE);
    // Keys are unique per generated row, so every accepted row is one value in the read model.
    expect(await countSensorValues(database.db)).toBe(acceptedTotal);
    // Every quarantined row is kept too (one read-model row per batch and row number).
    const quarantined = await sql<{ n: number }>`select count(*)::int as n from quarantined_rows`.execute(database.db);
    expect(quarantined.rows[0]!.n).toBe(quarantinedTotal);
    console.log(`fuzz (${backend}): statuses ${JSON.stringify(Object.fromEntries(statuses))}, accepted ${acceptedTotal}, quarantined ${quarantinedTotal}`);
  });
});

/** Line endings vary too (CRLF / LF). */
function r0(n: number): string {
  return n % 2 ? '\r\n' : '\n';
}
