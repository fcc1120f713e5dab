/** @jest-environment ./src/inference/ort-jest-environment.cjs */
/**
 * The HTTP contract as a third-party validator sees it: every request below goes through Stoplight Prism in proxy
 * mode with --errors in front of the real service (test/contract/prism-proxy.ts), so a request or a response that
 * violates the service's OpenAPI document fails the test. The README's own Quick start examples come first, read
 * from README.md (test/contract/readme-examples.ts); then at least one request per operation, including the
 * documented error answers a valid request can get. `npm run test:contract` runs this folder alone.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { settle, startTestApp } from '../support/test-app.js';
import { cycleRows, cycleSamples } from '../http/hydraulic-cycles.js';
import { startPrism, type PrismProxy } from './prism-proxy.js';
import { readmeExamples } from './readme-examples.js';

const KEY = randomBytes(24).toString('base64url');
const auth = { authorization: `Bearer ${KEY}` };
const json = { ...auth, 'content-type': 'application/json' };

interface Exchange {
  request: string;
  status: number;
  /** Prism's verdict: its own problem type, or the sl-violations header; empty when the exchange conforms. */
  violations: string;
  body: string;
}

function verdict(status: number, headers: Headers | Record<string, string>, body: string): string {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]) ?? '';
  const slViolations = get('sl-violations');
  const prismType = /"type"\s*:\s*"(https:\/\/stoplight\.io\/prism\/errors#[A-Z_]+)"/.exec(body)?.[1] ?? '';
  return [prismType && `${status} ${prismType}: ${body.slice(0, 2000)}`, slViolations && `sl-violations: ${slViolations}`].filter(Boolean).join('\n');
}

describe('the HTTP contract through Prism (proxy, --errors)', () => {
  let app: NestFastifyApplication;
  let prism: PrismProxy;
  let dir: string;
  const exchanges: Exchange[] = [];

  const call = async (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Exchange> => {
    const res = await fetch(prism.url + path, { method, headers: { ...auth, ...init.headers }, body: init.body });
    const body = await res.text();
    const exchange = { request: `${method} ${path}`, status: res.status, violations: verdict(res.status, res.headers, body), body };
    exchanges.push(exchange);
    return exchange;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'contract-'));
    app = await startTestApp({ DATA_DIR: 'memory://', AUTH: 'on', API_KEYS: `contract:ingest|detect|analyze|read|admin:${createHash('sha256').update(KEY).digest('hex')}` });
    const { port } = app.getHttpServer().address() as { port: number };
    const upstream = `http://127.0.0.1:${port}`;
    // The document the running service serves (the committed openapi.json is checked equal to it in CI).
    const spec = join(dir, 'openapi.json');
    await writeFile(spec, await (await fetch(`${upstream}/openapi.json`)).text());
    prism = await startPrism(spec, upstream);
  }, 180_000);

  afterAll(async () => {
    await prism?.stop();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs the README's Quick start examples, each answered 2xx as the README shows, with no violation", async () => {
    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(8);
    const out = { body: join(dir, 'body'), headers: join(dir, 'headers') };
    const results: { command: string; status: number; violations: string; mismatch?: string }[] = [];
    for (const example of examples) {
      const script = `set -euo pipefail
curl() { command curl -sS -o "$OUT_BODY" -D "$OUT_HEADERS" -w '%{http_code}' "$@"; }
${example.command}`;
      // asynchronously: the service answering through Prism runs in this very process
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, B: prism.url, KEY, OUT_BODY: out.body, OUT_HEADERS: out.headers } }, (error, so, se) =>
          error ? reject(new Error(`README example failed to run: ${example.command}\n${se}`)) : resolve(so),
        ),
      );
      const status = Number(stdout.trim());
      const body = await readFile(out.body, 'utf8');
      const headers = Object.fromEntries(
        (await readFile(out.headers, 'utf8'))
          .split(/\r?\n/)
          .map((l) => /^([^:]+):\s*(.*)$/.exec(l))
          .filter((m): m is RegExpExecArray => !!m)
          .map((m) => [m[1]!.toLowerCase(), m[2]!]),
      );
      const result: (typeof results)[number] = { command: example.command.split('\n')[0]!, status, violations: verdict(status, headers, body) };
      if (example.expected) {
        // The README's "# → {...}" answer, with "…" standing for values that differ per run.
        const expected = JSON.parse(example.expected.replace(/"…"/g, 'null')) as Record<string, unknown>;
        const actual = JSON.parse(body) as Record<string, unknown>;
        for (const [k, v] of Object.entries(expected))
          if (v !== null && JSON.stringify(actual[k]) !== JSON.stringify(v)) result.mismatch = `${k}: README ${JSON.stringify(v)}, got ${JSON.stringify(actual[k])}`;
      }
      results.push(result);
      exchanges.push({ request: result.command, status, violations: result.violations, body });
      // Queries read projections: the README's reader runs them after the ingest has been projected.
      if (/\/ingest\b/.test(example.command)) await settle(app);
    }
    expect(results.filter((r) => r.status < 200 || r.status > 299 || r.violations || r.mismatch)).toEqual([]);
  });

  it('answers every operation, and the documented errors of valid requests, within the contract', async () => {
    const start = Date.UTC(2024, 3, 1);
    expect((await call('POST', '/api/v1/ingest', { headers: json, body: JSON.stringify(cycleRows(0, 3, start, 'c-rig')) })).status).toBe(200);
    const csv = 'system_id,equipment_id,sensor_id,ts,v,unit\nc-rig,rig,TS1,2024-04-02T00:00:00Z,35.1,C\nc-rig,rig,TS1,2024-04-02T00:00:01Z,abc,C\n';
    expect((await call('POST', '/api/v1/ingest', { headers: { ...auth, 'content-type': 'text/csv', 'idempotency-key': 'c-1' }, body: csv })).status).toBe(200);
    expect((await call('POST', '/api/v1/ingest', { headers: { ...auth, 'content-type': 'text/csv', 'idempotency-key': 'c-1' }, body: csv })).status).toBe(200);
    await settle(app);

    const statuses = async (list: [string, string, { headers?: Record<string, string>; body?: string }?][]) => {
      const got: Record<string, number> = {};
      for (const [method, path, init] of list) got[`${method} ${path}`] = (await call(method, path, init)).status;
      return got;
    };
    const window = { samples: cycleSamples(0, start) };
    const ok = await statuses([
      ['GET', '/health/live'],
      ['GET', '/health/ready'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/api/v1/systems'],
      ['GET', '/api/v1/systems/c-rig/readings?sensor_id=PS1&limit=5'],
      ['GET', '/api/v1/systems/c-rig/anomalies?limit=1'],
      ['GET', '/api/v1/systems/c-rig/anomaly-trend?from=2024-04-01T00:00:00Z&to=2024-04-03T00:00:00Z&bucket=1d'],
      ['GET', '/api/v1/systems/c-rig/health'],
      ['GET', '/api/v1/systems/c-rig/events?limit=2'],
      ['GET', '/api/v1/quarantine?system_id=c-rig'],
      ['POST', '/api/v1/detect', { headers: json, body: JSON.stringify(window) }],
      ['POST', '/api/v1/systems/c-rig/analyze', { headers: json, body: JSON.stringify({ from: '2024-04-01T00:00:00Z', to: '2024-04-01T00:03:00Z', mode: 'sync' }) }],
    ]);
    expect(Object.values(ok).every((s) => s === 200)).toBe(true);
    const accepted = await call('POST', '/api/v1/systems/c-rig/analyze', { headers: json, body: JSON.stringify({ from: '2024-04-01T00:00:00Z', to: '2024-04-01T00:03:00Z', mode: 'async' }) });
    expect(accepted.status).toBe(202);
    expect((await call('GET', `/api/v1/analyses/${JSON.parse(accepted.body).analysis_id}`)).status).toBe(200);
    const events = JSON.parse((await call('GET', '/api/v1/systems/c-rig/events?limit=2')).body);
    if (events.next) expect((await call('GET', `/api/v1/systems/c-rig/events?limit=2&after=${encodeURIComponent(events.next)}`)).status).toBe(200);

    // Valid requests whose documented answer is a problem.
    const errors = await statuses([
      ['GET', '/api/v1/systems/nowhere-1/readings'],
      ['GET', '/api/v1/systems/nowhere-1/health'],
      ['GET', '/api/v1/analyses/00000000-0000-4000-8000-000000000000'],
      ['POST', '/api/v1/ingest', { headers: { ...auth, 'content-type': 'text/csv', 'idempotency-key': 'c-1' }, body: csv.replace('35.1', '35.2') }],
      ['GET', '/api/v1/systems', { headers: { authorization: 'Bearer not-a-key' } }],
      ['POST', '/api/v1/detect', { headers: json, body: JSON.stringify({ values: { PS1: 1 } }) }],
    ]);
    expect(Object.values(errors)).toEqual([404, 404, 404, 422, 401, 400]);
  });

  it('saw no violation in any exchange (Prism forwarded and checked every one)', () => {
    expect(exchanges.length).toBeGreaterThan(25);
    expect(exchanges.filter((e) => e.violations).map((e) => `${e.request} → ${e.violations}`)).toEqual([]);
    expect(prism.log()).not.toMatch(/Violation:/);
  });
});
