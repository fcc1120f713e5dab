/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { EventStore, RecordedEvent } from '../../src/event-store/event-store.js';
import { InferenceSagaService } from '../../src/inference/inference-saga.module.js';
import type { PartitionedInferenceSaga } from '../../src/inference/partitioned-inference-saga.js';
import { EVENT_STORE } from '../../src/infrastructure/tokens.js';
import { runWithCorrelation } from '../../src/observability/correlation.js';
import { captureLogs } from './log-capture.js';
import { cycleRows } from './hydraulic-cycles.js';
import { listen, type HttpResponse } from './http-test-client.js';

describe('correlation id from the HTTP request to events and log lines', () => {
  let app: NestFastifyApplication;
  let http: (path: string, init?: RequestInit) => Promise<HttpResponse>;
  const logs = captureLogs('info');

  beforeAll(async () => {
    app = await createApp(loadConfig({ DATA_DIR: 'memory://', AUTH: 'off', SAGA_FLUSH_TIMEOUT_MS: '1000' }), logs.logger);
    http = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  const ingest = (rows: unknown, correlationId?: string) =>
    http('/api/v1/ingest', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(correlationId ? { 'x-correlation-id': correlationId } : {}) },
      body: JSON.stringify(rows),
    });

  it('takes X-Correlation-Id, returns it, stores it on every event and writes it on the request log lines', async () => {
    const id = 'corr-http-0001';
    const rows = [
      { system_id: 'c-rig', equipment_id: 'e1', sensor_id: 'PS1', ts: '2024-05-01T10:00:00Z', v: 1 },
      { system_id: 'c-rig', equipment_id: 'e1', sensor_id: 'PS1', ts: 'bad', v: 1 },
    ];
    const res = await ingest(rows, id);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe(id);

    const events = (await app.get<EventStore>(EVENT_STORE).readAll()).filter((e) => e.metadata.correlationId === id);
    expect(events.map((e) => e.type).sort()).toEqual(['ReadingsIngested', 'ReadingsQuarantined']);

    const lines = logs.lines().filter((l) => l.correlation_id === id);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    // the fields the log shipper keeps (deploy/alloy/config.alloy): level, correlation_id, res.route, res.statusCode
    expect(lines.find((l) => l.msg === 'request completed')).toMatchObject({ level: 'info', res: { statusCode: 200, route: '/api/v1/ingest' } });
    for (const l of lines) {
      expect(l).toMatchObject({ service: 'anomaly-platform', level: expect.any(String), time: expect.any(String), request_id: expect.any(String) });
    }
  });

  it('generates one when none or a malformed one is sent, and puts it on problem responses', async () => {
    const generated = await ingest([{ system_id: 'c-rig', equipment_id: 'e1', sensor_id: 'PS1', ts: '2024-05-01T10:00:01Z', v: 2 }]);
    expect(generated.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const malformed = await ingest([], 'has spaces and ; semicolons');
    expect(malformed.status).toBe(400);
    const problem = malformed.json();
    expect(problem.correlation_id).toBe(malformed.headers.get('x-correlation-id'));
    expect(problem.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts it on every line logged inside runWithCorrelation (sagas, projections, jobs), through Nest Logger too', async () => {
    await runWithCorrelation({ correlationId: 'corr-job-7', causationId: '00000000-0000-4000-8000-000000000007' }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      new Logger('Job').log('job step done');
      logs.logger.info('plain pino line');
    });
    const lines = logs.lines().filter((l) => l.correlation_id === 'corr-job-7');
    expect(lines.map((l) => l.msg)).toEqual(['job step done', 'plain pino line']);
    expect(lines[0]).toMatchObject({ context: 'Job', causation_id: '00000000-0000-4000-8000-000000000007' });
    new Logger('Job').log('outside');
    expect(logs.lines().find((l) => l.msg === 'outside')?.correlation_id).toBeUndefined();
  });

  it('carries it into the AnomalyDetected event the saga appends and into the saga log lines', async () => {
    let saga: PartitionedInferenceSaga | null | undefined;
    try {
      saga = app.get(InferenceSagaService, { strict: false }).saga;
    } catch {
      saga = undefined;
    }
    if (saga === undefined) return void console.warn('InferenceSagaService is not registered in the app yet: saga part of the correlation test not run');
    // Registered but without a model is a failure here: the repository ships models/.
    expect(saga).not.toBeNull();
    const id = 'corr-saga-0001';
    // UCI cycles 1-3: cooler at 3 % of its efficiency (critical); a later minute closes the windows.
    const start = Date.UTC(2024, 5, 1, 12, 0, 0);
    expect((await ingest(cycleRows(0, 3, start, 'c-hyd'), id)).status).toBe(200);
    expect((await ingest(cycleRows(3, 1, start + 3 * 60_000, 'c-hyd'), 'corr-saga-0002')).status).toBe(200);

    const store = app.get<EventStore>(EVENT_STORE);
    let anomalies: RecordedEvent[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !anomalies.length; await new Promise((r) => setTimeout(r, 200)))
      anomalies = (await store.readAll()).filter((e) => e.type === 'AnomalyDetected' && e.metadata.correlationId === id);
    expect(anomalies.length).toBeGreaterThan(0);
    const sources = new Set((await store.readAll()).filter((e) => e.metadata.correlationId === id && e.type === 'ReadingsIngested').map((e) => e.eventId));
    for (const a of anomalies) expect(sources.has(a.metadata.causationId!)).toBe(true);

    // Saga lines are not request lines (no request_id) and carry the request's correlation id.
    const sagaLines = logs.lines().filter((l) => l.correlation_id === id && !l.request_id);
    expect(sagaLines.length).toBeGreaterThan(0);
  });
});
