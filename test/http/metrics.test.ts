/** @jest-environment ./src/inference/ort-jest-environment.cjs */
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

  beforeAll(async () => {
    app = await startTestApp({ DATA_DIR: 'memory://' });
    http = await listen(app);
    routes = (app.getHttpAdapter().getInstance() as unknown as { routeTable: RouteTable }).routeTable;
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
