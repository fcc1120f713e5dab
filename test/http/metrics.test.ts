/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RouteTable } from '../../src/http/route-table.js';
import { settle, startTestApp } from '../support/test-app.js';
import { listen, type HttpResponse } from './http-test-client.js';
import { cycleSamples } from './hydraulic-cycles.js';

/** Sums each metric's samples from the Prometheus text format; `declared` holds every # TYPE line. */
function parseExposition(text: string): { values: Map<string, number>; declared: Set<string> } {
  const values = new Map<string, number>();
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) declared.add(line.split(' ')[2]!);
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (m) values.set(m[1]!, (values.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return { values, declared };
}

/** The value of one series, written exactly as the exposition writes it (labels in order); undefined when absent. */
function sampleOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Every metric the issue names (docs/metrics.md), by the family Prometheus declares. */
const NAMED = [
  'readings_accepted_total',
  'invalid_rows_total',
  'protocol_requests_total',
  'protocol_last_success_timestamp_seconds',
  'http_request_duration_seconds',
  'detect_duration_seconds',
  'model_inference_duration_seconds',
  'eventstore_append_duration_seconds',
  'eventstore_events_appended_total',
  'projection_lag_events',
  'projection_lag_seconds',
  'anomalies_detected_total',
  'job_queue_depth',
  'job_redeliveries_total',
  'cache_hits_total',
  'cache_misses_total',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
];

describe('/metrics after a short workload', () => {
  let app: NestFastifyApplication;
  let http: (path: string, init?: RequestInit) => Promise<HttpResponse>;
  let routes: RouteTable;
  /** The scrape before any work (jest gives each test file its own module registry, so its own metrics). */
  let initial: string;

  beforeAll(async () => {
    app = await startTestApp({ DATA_DIR: 'memory://' });
    http = await listen(app);
    routes = (app.getHttpAdapter().getInstance() as unknown as { routeTable: RouteTable }).routeTable;
    initial = (await http('/metrics')).text;
    const rows = Array.from({ length: 30 }, (_, i) => ({ system_id: 'm-rig', equipment_id: 'e1', sensor_id: 'PS1', ts: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), v: i }));
    expect((await http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([...rows, { ...rows[0], v: 'x' }]) })).status).toBe(200);
    const csv = 'system_id,equipment_id,sensor_id,ts,v\nm-rig,e1,TS1,2024-01-01T00:00:00Z,35.5\nm-rig,e1,TS1,not-a-date,1\n';
    expect((await http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv })).status).toBe(200);
    await settle(app);
    expect((await http('/api/v1/systems/m-rig/readings')).status).toBe(200);
    if (routes.allowedMethods('/api/v1/systems/m-rig/health').includes('GET')) {
      await http('/api/v1/systems/m-rig/health');
      await http('/api/v1/systems/m-rig/health');
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  it('declares every metric named in the issue and counts the work that happened', async () => {
    const res = await http('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { values, declared } = parseExposition(res.text);
    expect(NAMED.filter((n) => !declared.has(n))).toEqual([]);

    const positive = [
      'readings_accepted_total',
      'invalid_rows_total',
      'protocol_requests_total',
      'protocol_last_success_timestamp_seconds',
      'http_request_duration_seconds_count',
      'eventstore_append_duration_seconds_count',
      'eventstore_events_appended_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ];
    expect(Object.fromEntries(positive.map((n) => [n, (values.get(n) ?? 0) > 0]))).toEqual(Object.fromEntries(positive.map((n) => [n, true])));
    expect(values.get('readings_accepted_total')).toBe(31);
    expect(values.get('invalid_rows_total')).toBe(2);
    // Caught up after settle(): the lag gauges exist per projection and read 0.
    expect(res.text).toMatch(/^projection_lag_events\{projection="sensor_readings"\} 0$/m);
    expect(res.text).toMatch(/^projection_lag_seconds\{projection="sensor_readings"\} 0$/m);
    expect(res.text).toMatch(/^http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/ingest",status_code="200"\} 2$/m);
  });

  it('passes promtool check metrics (Debian\'s prometheus package; CI installs it in scripts/check-deploy.sh)', async () => {
    const scrape = (await http('/metrics')).text;
    const run = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    if (run.error) throw new Error(`promtool is needed (apt-get install prometheus): ${run.error.message}`);
    // promtool names each offending metric; an empty report and exit 0 mean the scrape follows the conventions.
    expect({ status: run.status, report: `${run.stdout}${run.stderr}`.trim() }).toEqual({ status: 0, report: '' });
  });

  it('reads protocol health on rows too: a batch whose every row is quarantined is not a success', async () => {
    const before = (await http('/metrics')).text;
    const bad = [1, 2, 3].map((i) => ({ system_id: 'm-rig', equipment_id: 'e1', sensor_id: 'PS1', ts: `2024-01-02T00:00:0${i}Z`, v: 'x' }));
    const ingest = await http('/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bad) });
    expect(ingest.json()).toMatchObject({ accepted: 0, quarantined: 3 });
    const after = (await http('/metrics')).text;
    const ok = 'protocol_requests_total{protocol="json",outcome="ok"}';
    const lastSuccess = 'protocol_last_success_timestamp_seconds{protocol="json"}';
    const quarantined = 'protocol_rows_total{protocol="json",outcome="quarantined"}';
    expect(sampleOf(after, ok)).toBe(sampleOf(before, ok));
    expect(sampleOf(after, lastSuccess)).toBe(sampleOf(before, lastSuccess));
    expect(sampleOf(after, 'protocol_requests_total{protocol="json",outcome="rejected"}')).toBe(1);
    expect(sampleOf(after, quarantined)).toBe((sampleOf(before, quarantined) ?? 0) + 3);
    expect(sampleOf(after, 'protocol_rows_total{protocol="json",outcome="accepted"}')).toBe(30);
    expect(sampleOf(after, 'protocol_rows_total{protocol="csv",outcome="accepted"}')).toBe(1);
  });

  it('exports both row outcomes for both protocols from the start, so "nothing accepted" reads 0, not "no data"', async () => {
    for (const protocol of ['json', 'csv'])
      for (const outcome of ['accepted', 'quarantined'])
        expect([protocol, outcome, sampleOf(initial, `protocol_rows_total{protocol="${protocol}",outcome="${outcome}"}`)]).toEqual([protocol, outcome, 0]);
  });

  it('counts cache hits and misses of the health read model (when present)', async () => {
    if (!routes.allowedMethods('/api/v1/systems/m-rig/health').includes('GET')) return void console.warn('no health endpoint yet');
    const { values } = parseExposition((await http('/metrics')).text);
    expect(values.get('cache_misses_total')).toBeGreaterThan(0);
    expect(values.get('cache_hits_total')).toBeGreaterThan(0);
  });

  it('times detection (when POST /api/v1/detect is present)', async () => {
    if (!routes.allowedMethods('/api/v1/detect').includes('POST')) return void console.warn('POST /api/v1/detect is not registered yet');
    const res = await http('/api/v1/detect', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system_id: 'm-rig', equipment_id: 'e1', samples: cycleSamples(0, Date.UTC(2024, 0, 1)) }) });
    expect(res.status).toBe(200);
    const { values } = parseExposition((await http('/metrics')).text);
    expect(values.get('detect_duration_seconds_count')).toBeGreaterThan(0);
  });

  it('times each model call inside the ensemble (after a detect)', async () => {
    if (!routes.allowedMethods('/api/v1/detect').includes('POST')) return void console.warn('POST /api/v1/detect is not registered yet');
    const { values } = parseExposition((await http('/metrics')).text);
    expect(values.get('model_inference_duration_seconds_count') ?? 0).toBeGreaterThan(0);
  });
});
