/**
 * The soak's load generator (test/reliability/soak.test.ts), a separate process so that a kill -9 of the
 * service or a busy event loop there never stalls it. Bounded in time and requests, loopback only.
 *
 *   node dist/scripts/reliability/load-generator.js --url http://127.0.0.1:PORT --seconds 120 --out ledger.json
 *     [--workers 4] [--think-ms 100] [--max-requests 100000] [--worker-offset 0] [--kinds ingest,detect,analyze,query]
 *
 * Every worker owns one system and equipment and ingests one 60-s cycle of the UCI sample (17 sensors,
 * 1,020 rows) per request, as JSON or CSV, with ~2 % bad rows. Every ingest carries an Idempotency-Key; a
 * request without a definitive answer (connection error, 503, timeout) is sent again with the same key
 * until it gets one, and ~10 % of the answered ones are sent again on purpose (a client retry). The ledger
 * records what the service said it accepted and quarantined: the soak compares it with what is stored.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const SENSORS = ['PS1', 'PS2', 'PS3', 'PS4', 'PS5', 'PS6', 'EPS1', 'FS1', 'FS2', 'TS1', 'TS2', 'TS3', 'TS4', 'VS1', 'CE', 'CP', 'SE'];
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    seconds: { type: 'string', default: '60' },
    out: { type: 'string' },
    workers: { type: 'string', default: '4' },
    'think-ms': { type: 'string', default: '100' },
    'max-requests': { type: 'string', default: '200000' },
    'worker-offset': { type: 'string', default: '0' },
    kinds: { type: 'string', default: 'ingest,detect,analyze,query' },
    'models-dir': { type: 'string', default: 'models' },
  },
});
const base = args.url!;
if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(base)) throw new Error(`--url must be a loopback http URL, got ${base}`);
const seconds = Number(args.seconds);
const workers = Number(args.workers);
const thinkMs = Number(args['think-ms']);
const maxRequests = Number(args['max-requests']);
const offset = Number(args['worker-offset']);
const kinds = new Set(args.kinds!.split(','));
const deadline = Date.now() + seconds * 1000;
// Unanswered ingests and analyses are retried for this long after the deadline: the ledger must be definitive.
const settleDeadline = deadline + 180_000;

const sample = Object.fromEntries(
  SENSORS.map((s) => [s, readFileSync(join(args['models-dir']!, 'sample', `${s}.txt`), 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number))]),
);
const cycles = sample.PS1!.length;

interface Ledger {
  startedAt: string;
  finishedAt?: string;
  requests: Record<string, Record<string, number>>;
  ingest: { batches: number; accepted: number; quarantined: number; badRowsSent: number; replaysSent: number; replaysMatched: number; retries: number; json: number; csv: number };
  analyses: string[];
  backpressure: number;
  unavailable: number;
  timeouts: number;
  connectionErrors: number;
  serverErrors: { op: string; status: number; body: string }[];
  unanswered: string[];
  latencyMs: Record<string, number[]>;
}
const ledger: Ledger = {
  startedAt: new Date().toISOString(),
  requests: {},
  ingest: { batches: 0, accepted: 0, quarantined: 0, badRowsSent: 0, replaysSent: 0, replaysMatched: 0, retries: 0, json: 0, csv: 0 },
  analyses: [],
  backpressure: 0,
  unavailable: 0,
  timeouts: 0,
  connectionErrors: 0,
  serverErrors: [],
  unanswered: [],
  latencyMs: {},
};
let sent = 0;

function count(op: string, status: string): void {
  (ledger.requests[op] ??= {})[status] = (ledger.requests[op]![status] ?? 0) + 1;
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function send(op: string, path: string, init: RequestInit): Promise<Answer | undefined> {
  sent++;
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
    const body = await res.text();
    (ledger.latencyMs[op] ??= []).push(Math.round(performance.now() - started));
    count(op, String(res.status));
    if (res.status === 503) {
      const type = safeType(body);
      if (type === '/problems/overloaded') ledger.backpressure++;
      else if (type === '/problems/timeout') ledger.timeouts++;
      else ledger.unavailable++;
    } else if (res.status >= 500 && ledger.serverErrors.length < 50) ledger.serverErrors.push({ op, status: res.status, body: body.slice(0, 500) });
    return { status: res.status, headers: res.headers, body };
  } catch {
    count(op, 'connection_error');
    ledger.connectionErrors++;
    return undefined;
  }
}

function safeType(body: string): string | undefined {
  try {
    return JSON.parse(body).type;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const retryDelay = (a: Answer | undefined) => Math.min(5_000, Math.max(250, Number(a?.headers.get('retry-after') ?? 1) * 1000));

/** Sends until the answer is definitive (2xx or 4xx), with the same key; undefined if the settle deadline passed. */
async function untilDefinitive(op: string, path: string, init: () => RequestInit): Promise<Answer | undefined> {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) ledger.ingest.retries += op === 'ingest' ? 1 : 0;
    const a = await send(op, path, init());
    if (a && a.status < 500) return a;
    if (Date.now() > settleDeadline) return undefined;
    await sleep(retryDelay(a));
  }
}

function batch(worker: number, n: number): { json: unknown[]; csv: string; bad: number } {
  const row = ((worker * 7 + n) % cycles) + 1;
  const start = T0 + n * 60_000;
  const rows: Record<string, unknown>[] = [];
  let bad = 0;
  for (let s = 0; s < 60; s++) {
    const ts = new Date(start + s * 1000).toISOString();
    for (const sensor of SENSORS) rows.push({ system_id: `soak-${worker}`, equipment_id: `eq-${worker}`, sensor_id: sensor, ts, v: sample[sensor]![row - 1]![s]! });
  }
  // ~2 % bad rows on top (the cycle itself stays complete, so the saga scores every window): a value that is
  // not a number, or a timestamp that is not one.
  for (let i = 0; i < 20; i++) {
    const sensor = SENSORS[(n + i) % SENSORS.length]!;
    const ts = new Date(start + ((n * 7 + i * 3) % 60) * 1000).toISOString();
    rows.splice(((n * 31 + i * 53) % rows.length) + 1, 0, i % 2 ? { system_id: `soak-${worker}`, equipment_id: `eq-${worker}`, sensor_id: sensor, ts, v: 'abc' } : { system_id: `soak-${worker}`, equipment_id: `eq-${worker}`, sensor_id: sensor, ts: 'yesterday', v: 1 });
    bad++;
  }
  const csv = ['system_id,equipment_id,sensor_id,ts,v', ...rows.map((r) => `${r.system_id},${r.equipment_id},${r.sensor_id},${r.ts},${r.v}`)].join('\n') + '\n';
  return { json: rows, csv, bad };
}

async function ingest(worker: number, n: number): Promise<void> {
  const b = batch(worker, n);
  const asCsv = n % 3 === 0;
  const key = `soak-${ledger.startedAt}-${worker}-${n}`;
  const init = (): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': asCsv ? 'text/csv' : 'application/json', 'idempotency-key': key },
    body: asCsv ? b.csv : JSON.stringify(b.json),
  });
  ledger.ingest.badRowsSent += b.bad;
  const a = await untilDefinitive('ingest', '/api/v1/ingest', init);
  if (!a) return void ledger.unanswered.push(`ingest ${key}`);
  if (a.status !== 200) {
    if (ledger.serverErrors.length < 50) ledger.serverErrors.push({ op: 'ingest-refused', status: a.status, body: a.body.slice(0, 500) });
    return;
  }
  const result = JSON.parse(a.body) as IngestResult;
  ledger.ingest.batches++;
  ledger.ingest.accepted += result.accepted;
  ledger.ingest.quarantined += result.quarantined;
  if (asCsv) ledger.ingest.csv++;
  else ledger.ingest.json++;
  if (n % 10 === 3) {
    // A client retry of an answered batch: the same answer again, nothing stored twice.
    ledger.ingest.replaysSent++;
    const again = await untilDefinitive('ingest', '/api/v1/ingest', init);
    // The same answer (a replay comes from the stored copy: compare the content, not the key order).
    if (again?.status === 200 && again.headers.get('idempotent-replayed') === 'true' && sameResult(JSON.parse(again.body), result)) ledger.ingest.replaysMatched++;
  }
}

interface IngestResult {
  batch_id: string;
  accepted: number;
  quarantined: number;
  errors: unknown[];
}

function sameResult(x: IngestResult, y: IngestResult): boolean {
  return x.batch_id === y.batch_id && x.accepted === y.accepted && x.quarantined === y.quarantined && x.errors.length === y.errors.length;
}

async function analyze(worker: number, n: number): Promise<void> {
  const key = `soak-analysis-${ledger.startedAt}-${worker}-${n}`;
  const from = new Date(T0 + Math.max(0, n - 5) * 60_000).toISOString();
  const to = new Date(T0 + n * 60_000).toISOString();
  const a = await untilDefinitive('analyze', `/api/v1/systems/soak-${worker}/analyze`, () => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ from, to, mode: 'async' }),
  }));
  if (!a) return void ledger.unanswered.push(`analyze ${key}`);
  if (a.status === 202 || a.status === 200) {
    const id = JSON.parse(a.body).analysis_id as string;
    if (!ledger.analyses.includes(id)) ledger.analyses.push(id);
  } else if (ledger.serverErrors.length < 50) ledger.serverErrors.push({ op: 'analyze-refused', status: a.status, body: a.body.slice(0, 500) });
}

async function detect(worker: number, n: number): Promise<void> {
  const row = ((worker + n) % cycles) + 1;
  const values = Object.fromEntries(SENSORS.map((s) => [s, sample[s]![row - 1]![n % 60]!]));
  await send('detect', '/api/v1/detect', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ values }) });
}

async function query(worker: number, n: number): Promise<void> {
  const paths = [
    `/api/v1/systems/soak-${worker}/readings?sensor_id=PS1&limit=100`,
    `/api/v1/systems/soak-${worker}/anomalies?limit=20`,
    `/api/v1/quarantine?system_id=soak-${worker}&limit=20`,
    '/api/v1/systems',
    `/api/v1/systems/soak-${worker}/health`,
  ];
  await send('query', paths[n % paths.length]!, { method: 'GET' });
}

async function runWorker(w: number): Promise<void> {
  const worker = w + offset;
  let n = 0;
  let step = 0;
  while (Date.now() < deadline && sent < maxRequests) {
    step++;
    if (kinds.has('ingest')) await ingest(worker, n++);
    if (kinds.has('query')) await query(worker, step);
    if (kinds.has('detect') && step % 2 === 0) await detect(worker, step);
    if (kinds.has('analyze') && step % 10 === 5 && n > 2) await analyze(worker, n - 1);
    if (thinkMs > 0) await sleep(thinkMs);
  }
}

await Promise.all(Array.from({ length: workers }, (_, w) => runWorker(w)));
ledger.finishedAt = new Date().toISOString();
const summary = { ...ledger, latencyMs: Object.fromEntries(Object.entries(ledger.latencyMs).map(([op, xs]) => [op, percentiles(xs)])) };
if (args.out) writeFileSync(args.out, JSON.stringify(summary, null, 2));
console.log(JSON.stringify({ requests: sent, ingest: ledger.ingest, analyses: ledger.analyses.length, backpressure: ledger.backpressure, unavailable: ledger.unavailable, timeouts: ledger.timeouts, connectionErrors: ledger.connectionErrors, serverErrors: ledger.serverErrors.length, unanswered: ledger.unanswered.length }));

function percentiles(xs: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? 0 };
}
